package io.github.idempotency.autoconfigure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import io.github.idempotency.web.IdempotencyPolicy;
import io.github.idempotency.web.IdempotencyPolicy.OnStoreFailure;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * Configuration of idempotent endpoints, under {@code idempotency.*}.
 *
 * @since 0.1.0
 */
@ConfigurationProperties("idempotency")
public class IdempotencyProperties {

	/**
	 * Headers that carry credentials or belong to one connection; never stored, whatever is configured.
	 */
	static final Set<String> NEVER_REPLAYED = Set.of("set-cookie", "set-cookie2", "authorization",
			"proxy-authorization", "www-authenticate", "proxy-authenticate", "cookie", "content-length",
			"transfer-encoding", "connection", "keep-alive", "date");

	/**
	 * Whether @Idempotent endpoints are handled. When false, annotated methods run as if not annotated.
	 */
	private boolean enabled = true;

	/**
	 * Request header that carries the idempotency key.
	 */
	private String headerName = "Idempotency-Key";

	/**
	 * Request methods that @Idempotent applies to; requests with other methods pass through.
	 */
	private List<String> methods = new ArrayList<>(List.of("POST", "PATCH"));

	/**
	 * How long a completed response is kept and replayed, counted from completion.
	 */
	private Duration ttl = Duration.ofHours(24);

	/**
	 * How long a claim holds while its request runs. Past it, a retry may run the handler again, so keep it above the
	 * slowest handler's run time.
	 */
	private Duration lockTimeout = Duration.ofSeconds(30);

	/**
	 * How long a duplicate of a request still in progress waits for it to finish and then replays its response. Zero
	 * answers 409 at once.
	 */
	private Duration waitTimeout = Duration.ZERO;

	/**
	 * Longest idempotency key accepted, in characters.
	 */
	private int maxKeyLength = 255;

	/**
	 * Prefix of the Redis keys that hold idempotency records.
	 */
	private String keyPrefix = "idempotency";

	/**
	 * What a request gets when the idempotency store cannot be reached: 'reject' answers 503 without running the
	 * handler; 'proceed' runs it without idempotency and logs a warning.
	 */
	private OnStoreFailure onStoreFailure = OnStoreFailure.REJECT;

	/**
	 * Response headers stored with a response and sent again on replay. Credential and connection headers
	 * (Set-Cookie, Authorization, Content-Length, ...) are never allowed.
	 */
	private List<String> replayedHeaders = new ArrayList<>(List.of("Content-Type", "Content-Language",
			"Content-Disposition", "Content-Encoding", "Content-Location", "Location", "ETag", "Last-Modified",
			"Cache-Control", "Expires", "Link", "Vary", "Retry-After"));

	/**
	 * Response header that marks a replayed response, sent with the value 'true'.
	 */
	private String replayedHeaderName = "Idempotent-Replayed";

	/**
	 * Whether 4xx responses the handler produced (other than 408 and 429) are stored and replayed. When false, they
	 * release the key so that a retry runs the handler again.
	 */
	private boolean replayClientErrors = true;

	/**
	 * Whether 5xx responses are stored and replayed. When false, they release the key so that a retry runs the
	 * handler again.
	 */
	private boolean replayServerErrors = false;

	/**
	 * Retry-After sent with a 409 for a request still in progress.
	 */
	private Duration inProgressRetryAfter = Duration.ofSeconds(1);

	/**
	 * Retry-After sent with a 503 when the store cannot be reached.
	 */
	private Duration storeUnavailableRetryAfter = Duration.ofSeconds(5);

	/**
	 * Largest request body read to fingerprint a request; larger ones get 413.
	 */
	private DataSize maxBodySize = DataSize.ofMegabytes(1);

	/**
	 * Largest response body stored for replay. A larger one is still sent in full, but not stored: the key is
	 * released and a retry runs the handler again.
	 */
	private DataSize maxResponseSize = DataSize.ofMegabytes(1);

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public String getHeaderName() {
		return this.headerName;
	}

	public void setHeaderName(String headerName) {
		this.headerName = headerName;
	}

	public List<String> getMethods() {
		return this.methods;
	}

	public void setMethods(List<String> methods) {
		this.methods = methods;
	}

	public Duration getTtl() {
		return this.ttl;
	}

	public void setTtl(Duration ttl) {
		this.ttl = ttl;
	}

	public Duration getLockTimeout() {
		return this.lockTimeout;
	}

	public void setLockTimeout(Duration lockTimeout) {
		this.lockTimeout = lockTimeout;
	}

	public Duration getWaitTimeout() {
		return this.waitTimeout;
	}

	public void setWaitTimeout(Duration waitTimeout) {
		this.waitTimeout = waitTimeout;
	}

	public int getMaxKeyLength() {
		return this.maxKeyLength;
	}

	public void setMaxKeyLength(int maxKeyLength) {
		this.maxKeyLength = maxKeyLength;
	}

	public String getKeyPrefix() {
		return this.keyPrefix;
	}

	public void setKeyPrefix(String keyPrefix) {
		this.keyPrefix = keyPrefix;
	}

	public OnStoreFailure getOnStoreFailure() {
		return this.onStoreFailure;
	}

	public void setOnStoreFailure(OnStoreFailure onStoreFailure) {
		this.onStoreFailure = onStoreFailure;
	}

	public List<String> getReplayedHeaders() {
		return this.replayedHeaders;
	}

	public void setReplayedHeaders(List<String> replayedHeaders) {
		this.replayedHeaders = replayedHeaders;
	}

	public String getReplayedHeaderName() {
		return this.replayedHeaderName;
	}

	public void setReplayedHeaderName(String replayedHeaderName) {
		this.replayedHeaderName = replayedHeaderName;
	}

	public boolean isReplayClientErrors() {
		return this.replayClientErrors;
	}

	public void setReplayClientErrors(boolean replayClientErrors) {
		this.replayClientErrors = replayClientErrors;
	}

	public boolean isReplayServerErrors() {
		return this.replayServerErrors;
	}

	public void setReplayServerErrors(boolean replayServerErrors) {
		this.replayServerErrors = replayServerErrors;
	}

	public Duration getInProgressRetryAfter() {
		return this.inProgressRetryAfter;
	}

	public void setInProgressRetryAfter(Duration inProgressRetryAfter) {
		this.inProgressRetryAfter = inProgressRetryAfter;
	}

	public Duration getStoreUnavailableRetryAfter() {
		return this.storeUnavailableRetryAfter;
	}

	public void setStoreUnavailableRetryAfter(Duration storeUnavailableRetryAfter) {
		this.storeUnavailableRetryAfter = storeUnavailableRetryAfter;
	}

	public DataSize getMaxBodySize() {
		return this.maxBodySize;
	}

	public void setMaxBodySize(DataSize maxBodySize) {
		this.maxBodySize = maxBodySize;
	}

	public DataSize getMaxResponseSize() {
		return this.maxResponseSize;
	}

	public void setMaxResponseSize(DataSize maxResponseSize) {
		this.maxResponseSize = maxResponseSize;
	}

	/**
	 * The request methods, upper case.
	 * @return the methods
	 */
	Set<String> methodNames() {
		return Set.copyOf(this.methods.stream().map((method) -> method.trim().toUpperCase(Locale.ROOT)).toList());
	}

	/**
	 * Checks every value and turns them into the policy the coordinator applies.
	 * @return the policy
	 * @throws IllegalStateException naming the first property whose value cannot work
	 */
	IdempotencyPolicy toPolicy() {
		requireToken(this.headerName, "idempotency.header-name");
		requireToken(this.replayedHeaderName, "idempotency.replayed-header-name");
		requirePositive(this.ttl, "idempotency.ttl");
		requirePositive(this.lockTimeout, "idempotency.lock-timeout");
		requirePositive(this.inProgressRetryAfter, "idempotency.in-progress-retry-after");
		requirePositive(this.storeUnavailableRetryAfter, "idempotency.store-unavailable-retry-after");
		check(!this.waitTimeout.isNegative(), "idempotency.wait-timeout", this.waitTimeout, "must not be negative");
		check(this.maxKeyLength >= 1, "idempotency.max-key-length", this.maxKeyLength, "must be at least 1");
		check(this.keyPrefix != null && !this.keyPrefix.isBlank() && this.keyPrefix.indexOf('{') < 0
				&& this.keyPrefix.indexOf('}') < 0, "idempotency.key-prefix", this.keyPrefix,
				"must be non-blank and free of '{' and '}', which would change the Redis Cluster hash tag");
		check(!this.methods.isEmpty(), "idempotency.methods", this.methods, "must name at least one method");
		check(this.maxBodySize.toBytes() > 0, "idempotency.max-body-size", this.maxBodySize, "must be positive");
		check(this.maxResponseSize.toBytes() > 0, "idempotency.max-response-size", this.maxResponseSize,
				"must be positive");
		for (String header : this.replayedHeaders) {
			requireToken(header, "idempotency.replayed-headers");
			check(!NEVER_REPLAYED.contains(header.toLowerCase(Locale.ROOT)), "idempotency.replayed-headers", header,
					"is never replayed: it carries credentials or belongs to a single connection");
		}
		return new IdempotencyPolicy(this.headerName, this.ttl, this.lockTimeout, this.waitTimeout,
				this.maxKeyLength, this.onStoreFailure, this.replayedHeaders, this.replayedHeaderName,
				this.replayClientErrors, this.replayServerErrors, this.inProgressRetryAfter,
				this.storeUnavailableRetryAfter, this.maxBodySize.toBytes(), this.maxResponseSize.toBytes());
	}

	private static void requirePositive(Duration value, String property) {
		check(value != null && !value.isNegative() && !value.isZero(), property, value, "must be positive");
	}

	private static void requireToken(String value, String property) {
		check(value != null && !value.isEmpty() && value.chars().allMatch(IdempotencyProperties::isTokenChar),
				property, value, "must be a valid HTTP header name");
	}

	private static boolean isTokenChar(int c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
				|| "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
	}

	private static void check(boolean valid, String property, Object value, String rule) {
		if (!valid) {
			throw new IllegalStateException(property + " " + rule + ", but was '" + value + "'");
		}
	}

}
