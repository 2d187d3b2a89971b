package io.github.idempotency.autoconfigure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import io.github.idempotency.interceptor.IdempotencyAdvisor;
import io.github.idempotency.store.redis.RedisEvictionPolicyCheck;
import io.github.idempotency.interceptor.IdempotencyPolicy;
import io.github.idempotency.interceptor.IdempotencyPolicy.OnStoreFailure;
import io.github.idempotency.web.HttpPolicy;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

/**
 * Configuration of idempotent endpoints, under {@code idempotency.*}. Validates itself
 * when bound: a value that cannot work fails startup with a report naming the property.
 *
 * @since 0.1.0
 */
@ConfigurationProperties("idempotency")
public class IdempotencyProperties implements Validator {

	static final String DEFAULT_KEY_PREFIX = "idempotency";

	/**
	 * Headers that carry credentials or belong to one connection; never stored, whatever
	 * is configured.
	 */
	static final Set<String> NEVER_REPLAYED = Set.of("set-cookie", "set-cookie2", "authorization",
			"proxy-authorization", "www-authenticate", "proxy-authenticate", "authentication-info", "cookie",
			"content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "upgrade", "te",
			"trailer", "date");

	/**
	 * Starts of header names that are worked out for each request (CORS, rate limits),
	 * which a replay must not overwrite with another request's.
	 */
	static final List<String> NEVER_REPLAYED_PREFIXES = List.of("access-control-", "x-ratelimit-", "ratelimit");

	/**
	 * Whether @Idempotent endpoints are handled. When false, annotated methods run as if
	 * not annotated.
	 */
	private boolean enabled = true;

	/**
	 * Request header that carries the idempotency key.
	 */
	private String headerName = "Idempotency-Key";

	/**
	 * Request methods that a class-level @Idempotent covers; requests with other methods
	 * to its handlers pass through. An annotation on a method applies to every request
	 * method.
	 */
	private List<String> methods = new ArrayList<>(List.of("POST", "PATCH"));

	/**
	 * How long a completed response is kept and replayed, counted from completion. At
	 * most 100 years.
	 */
	private Duration ttl = Duration.ofHours(24);

	/**
	 * How long a claim holds without renewal: how soon a retry may take over the key of
	 * an instance that stopped mid-request. With renewal on, a running handler keeps its
	 * claim up to lock-renewal.max-duration; with it off, keep this above the slowest
	 * handler's run time.
	 */
	private Duration lockTimeout = Duration.ofSeconds(30);

	/**
	 * Renewal of a claim's lease while its request runs.
	 */
	private final LockRenewal lockRenewal = new LockRenewal();

	/**
	 * Order of the advice around idempotent methods among other advice: it must run after
	 * method security and validation and outside transactions.
	 */
	private int advisorOrder = IdempotencyAdvisor.DEFAULT_ORDER;

	/**
	 * Where records are kept: 'redis', 'jdbc' or 'memory'. When unset, in Redis if the
	 * application has a RedisConnectionFactory, else in its database if it has a
	 * DataSource, else in memory.
	 */
	private @Nullable StoreType store;

	/**
	 * Settings of the Redis store.
	 */
	private final Redis redis = new Redis();

	/**
	 * Settings of the JDBC store.
	 */
	private final Jdbc jdbc = new Jdbc();

	/**
	 * How long a duplicate of a request still in progress waits for it to finish and then
	 * replays its response. Zero answers 409 at once.
	 */
	private Duration waitTimeout = Duration.ZERO;

	/**
	 * Longest idempotency key accepted, in characters.
	 */
	private int maxKeyLength = 255;

	/**
	 * Prefix of the Redis keys that hold idempotency records.
	 */
	private String keyPrefix = DEFAULT_KEY_PREFIX;

	/**
	 * What a request gets when the idempotency store cannot be reached: 'reject' answers
	 * 503 without running the handler; 'proceed' runs it without idempotency and logs a
	 * warning.
	 */
	private OnStoreFailure onStoreFailure = OnStoreFailure.REJECT;

	/**
	 * Response headers stored with a response and sent again on replay. Credential and
	 * connection headers (Set-Cookie, Authorization, Content-Length, ...) are never
	 * allowed, nor those worked out for each request (Access-Control-*, X-RateLimit-*).
	 */
	private List<String> replayedHeaders = new ArrayList<>(
			List.of("Content-Type", "Content-Language", "Content-Disposition", "Content-Encoding", "Content-Location",
					"Location", "ETag", "Last-Modified", "Cache-Control", "Expires", "Link", "Vary", "Retry-After"));

	/**
	 * Response header that marks a replayed response, sent with the value 'true'.
	 */
	private String replayedHeaderName = "Idempotent-Replayed";

	/**
	 * Whether 4xx responses the handler produced (other than 408 and 429) are stored and
	 * replayed. When false, they release the key so that a retry runs the handler again.
	 */
	private boolean replayClientErrors = true;

	/**
	 * Whether 5xx responses are stored and replayed. When false, they release the key so
	 * that a retry runs the handler again.
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
	 * Largest response body stored for replay. A larger one is still sent in full, but
	 * not stored: the key is released and a retry runs the handler again.
	 */
	private DataSize maxResponseSize = DataSize.ofMegabytes(1);

	/**
	 * Largest outcome an @Idempotent method or listener keeps, as JSON: its return value,
	 * or the message of a final exception. A larger value is still returned, but retries
	 * with its key throw IdempotentResultNotKeptException rather than run it again; a
	 * larger message is kept without it.
	 */
	private DataSize maxResultSize = DataSize.ofMegabytes(1);

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

	public int getAdvisorOrder() {
		return this.advisorOrder;
	}

	public void setAdvisorOrder(int advisorOrder) {
		this.advisorOrder = advisorOrder;
	}

	public LockRenewal getLockRenewal() {
		return this.lockRenewal;
	}

	public Redis getRedis() {
		return this.redis;
	}

	public @Nullable StoreType getStore() {
		return this.store;
	}

	public void setStore(@Nullable StoreType store) {
		this.store = store;
	}

	public Jdbc getJdbc() {
		return this.jdbc;
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

	public DataSize getMaxResultSize() {
		return this.maxResultSize;
	}

	public void setMaxResultSize(DataSize maxResultSize) {
		this.maxResultSize = maxResultSize;
	}

	/**
	 * The largest body the application may store: a response over HTTP, an outcome of a
	 * method or listener.
	 * @return the size in bytes
	 */
	long largestOutcome() {
		return Math.max(this.maxResponseSize.toBytes(), this.maxResultSize.toBytes());
	}

	/**
	 * The request methods, upper case.
	 * @return the methods
	 */
	Set<String> methodNames() {
		return methodNames(this.methods);
	}

	/**
	 * Request methods as {@code idempotency.methods} lists them, upper case.
	 * @param methods the methods as written
	 * @return the methods
	 */
	static Set<String> methodNames(List<String> methods) {
		return Set.copyOf(methods.stream().map((method) -> method.trim().toUpperCase(Locale.ROOT)).toList());
	}

	/**
	 * The policy the coordinator applies, from the bound and validated values.
	 * @return the policy
	 */
	IdempotencyPolicy toPolicy() {
		return new IdempotencyPolicy(this.ttl, this.lockTimeout, this.lockRenewal.enabled, this.lockRenewal.interval,
				this.lockRenewal.maxDuration, this.waitTimeout, this.maxKeyLength, this.onStoreFailure);
	}

	HttpPolicy toHttpPolicy() {
		return new HttpPolicy(this.headerName, this.replayedHeaders, this.replayedHeaderName, this.replayClientErrors,
				this.replayServerErrors, this.inProgressRetryAfter, this.storeUnavailableRetryAfter,
				this.maxBodySize.toBytes(), this.maxResponseSize.toBytes());
	}

	@Override
	public boolean supports(Class<?> type) {
		return IdempotencyProperties.class.isAssignableFrom(type);
	}

	/**
	 * Rejects values that cannot work, so that startup fails with a report naming each
	 * property.
	 */
	@Override
	public void validate(Object target, Errors errors) {
		IdempotencyProperties properties = (IdempotencyProperties) target;
		requireHeaderName(errors, "headerName", properties.headerName);
		requireHeaderName(errors, "replayedHeaderName", properties.replayedHeaderName);
		requirePositive(errors, "ttl", properties.ttl);
		if (properties.ttl != null && properties.ttl.compareTo(IdempotencyPolicy.LONGEST_RETENTION) > 0) {
			errors.rejectValue("ttl", "tooLong",
					property("ttl") + " must be at most " + IdempotencyPolicy.LONGEST_RETENTION);
		}
		requirePositive(errors, "lockTimeout", properties.lockTimeout);
		if (properties.lockTimeout != null && !properties.lockTimeout.isNegative() && !properties.lockTimeout.isZero()
				&& !IdempotencyPolicy.isUsableLockTimeout(properties.lockTimeout)) {
			errors.rejectValue("lockTimeout", "outOfRange", property("lockTimeout") + " must be between "
					+ IdempotencyPolicy.SHORTEST_LOCK_TIMEOUT + " and " + IdempotencyPolicy.LONGEST_WAIT);
		}
		requirePositive(errors, "inProgressRetryAfter", properties.inProgressRetryAfter);
		requirePositive(errors, "storeUnavailableRetryAfter", properties.storeUnavailableRetryAfter);
		Duration renewalInterval = properties.lockRenewal.interval;
		if (renewalInterval != null && (renewalInterval.isNegative() || renewalInterval.isZero()
				|| (properties.lockTimeout != null && renewalInterval.compareTo(properties.lockTimeout) >= 0))) {
			errors.rejectValue("lockRenewal.interval", "invalid", property("lockRenewal.interval")
					+ " must be positive and shorter than idempotency.lock-timeout, or the lease expires between renewals");
		}
		requirePositive(errors, "lockRenewal.maxDuration", properties.lockRenewal.maxDuration);
		requireAtMostLongestWait(errors, "lockRenewal.maxDuration", properties.lockRenewal.maxDuration);
		if (properties.waitTimeout == null || properties.waitTimeout.isNegative()) {
			errors.rejectValue("waitTimeout", "negative", property("waitTimeout") + " must be zero or positive");
		}
		requireAtMostLongestWait(errors, "waitTimeout", properties.waitTimeout);
		if (properties.maxKeyLength < 1) {
			errors.rejectValue("maxKeyLength", "tooSmall", property("maxKeyLength") + " must be at least 1");
		}
		String prefix = properties.keyPrefix;
		if (prefix != null && prefix.contains("${")) {
			errors.rejectValue("keyPrefix", "unresolved",
					property("keyPrefix") + " holds the unresolved placeholder in '" + prefix
							+ "'; define the property it names, or give it a default (${name:default})");
		}
		else if (prefix == null || prefix.isBlank() || prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0) {
			errors.rejectValue("keyPrefix", "invalid", property("keyPrefix")
					+ " must be non-blank and free of '{' and '}', which would change the Redis Cluster hash tag");
		}
		if (properties.jdbc.tableName == null
				|| !properties.jdbc.tableName.matches("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?")) {
			errors.rejectValue("jdbc.tableName", "invalid", property("jdbc.tableName")
					+ " must be a plain SQL name (letters, digits, '_'), optionally qualified by its schema");
		}
		requirePositive(errors, "jdbc.purge.interval", properties.jdbc.purge.interval);
		if (properties.jdbc.purge.batchSize < 1) {
			errors.rejectValue("jdbc.purge.batchSize", "tooSmall",
					property("jdbc.purge.batchSize") + " must be at least 1");
		}
		if (properties.methods == null || properties.methods.isEmpty()) {
			errors.rejectValue("methods", "empty", property("methods") + " must name at least one request method");
		}
		else {
			for (String method : properties.methods) {
				// "POST PATCH" would be one method no request has, and a class-level
				// annotation would cover nothing.
				if (method == null || !isHeaderName(method.trim())) {
					errors.rejectValue("methods", "invalid", property("methods") + " '" + method
							+ "' is not a request method; list them one by one, such as POST,PATCH");
				}
			}
		}
		if (properties.maxBodySize == null || properties.maxBodySize.toBytes() <= 0) {
			errors.rejectValue("maxBodySize", "notPositive", property("maxBodySize") + " must be positive");
		}
		if (properties.maxResponseSize == null || properties.maxResponseSize.toBytes() <= 0) {
			errors.rejectValue("maxResponseSize", "notPositive", property("maxResponseSize") + " must be positive");
		}
		if (properties.maxResultSize == null || properties.maxResultSize.toBytes() <= 0) {
			errors.rejectValue("maxResultSize", "notPositive", property("maxResultSize") + " must be positive");
		}
		for (String header : properties.replayedHeaders) {
			if (!isHeaderName(header)) {
				errors.rejectValue("replayedHeaders", "invalid",
						property("replayedHeaders") + " '" + header + "' is not a valid HTTP header name");
			}
			else if (NEVER_REPLAYED.contains(header.toLowerCase(Locale.ROOT))) {
				errors.rejectValue("replayedHeaders", "forbidden", property("replayedHeaders") + " '" + header
						+ "' is never replayed: it carries credentials or belongs to one connection");
			}
			else if (NEVER_REPLAYED_PREFIXES.stream().anyMatch(header.toLowerCase(Locale.ROOT)::startsWith)) {
				errors.rejectValue("replayedHeaders", "forbidden", property("replayedHeaders") + " '" + header
						+ "' is never replayed: it is worked out for each request");
			}
		}
	}

	// Waits are counted in nanoseconds, which hold about 292 years.
	private static void requireAtMostLongestWait(Errors errors, String field, @Nullable Duration value) {
		if (value != null && value.compareTo(IdempotencyPolicy.LONGEST_WAIT) > 0) {
			errors.rejectValue(field, "tooLong",
					property(field) + " must be at most " + IdempotencyPolicy.LONGEST_WAIT);
		}
	}

	private static void requirePositive(Errors errors, String field, Duration value) {
		if (value == null || value.isNegative() || value.isZero()) {
			errors.rejectValue(field, "notPositive", property(field) + " must be positive");
		}
	}

	private static void requireHeaderName(Errors errors, String field, String value) {
		if (!isHeaderName(value)) {
			errors.rejectValue(field, "invalid", property(field) + " must be a valid HTTP header name");
		}
	}

	// As users write it in application.yml: lockRenewal.maxDuration is
	// idempotency.lock-renewal.max-duration.
	private static String property(String field) {
		return "idempotency." + field.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
	}

	private static boolean isHeaderName(String value) {
		return value != null && !value.isEmpty()
				&& value.chars()
					.allMatch((c) -> (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
							|| "!#$%&'*+-.^_`|~".indexOf(c) >= 0);
	}

	/**
	 * Renewal of a claim's lease while its request runs.
	 */
	public static class LockRenewal {

		/**
		 * Whether the lease of a running request is renewed, so that a handler slower
		 * than the lock timeout keeps its key. The lease still expires when the instance
		 * running it dies.
		 */
		private boolean enabled = true;

		/**
		 * How often the lease is renewed. Defaults to a third of the lock timeout, and is
		 * never longer than a third of an operation's own lock timeout.
		 */
		private @Nullable Duration interval;

		/**
		 * Longest time a request's lease is renewed, counted from its claim. A request
		 * running longer, such as a handler that never returns or async work that
		 * outlived its request, loses its key one lock timeout later.
		 */
		private Duration maxDuration = Duration.ofMinutes(10);

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public @Nullable Duration getInterval() {
			return this.interval;
		}

		public void setInterval(@Nullable Duration interval) {
			this.interval = interval;
		}

		public Duration getMaxDuration() {
			return this.maxDuration;
		}

		public void setMaxDuration(Duration maxDuration) {
			this.maxDuration = maxDuration;
		}

	}

	/**
	 * Settings of the Redis store.
	 */
	public static class Redis {

		/**
		 * What a Redis whose maxmemory-policy may evict records leads to at startup:
		 * 'warn', 'fail' or 'off'.
		 */
		private RedisEvictionPolicyCheck.Action evictionCheck = RedisEvictionPolicyCheck.Action.WARN;

		public RedisEvictionPolicyCheck.Action getEvictionCheck() {
			return this.evictionCheck;
		}

		public void setEvictionCheck(RedisEvictionPolicyCheck.Action evictionCheck) {
			this.evictionCheck = evictionCheck;
		}

	}

	/**
	 * Where records are kept.
	 */
	public enum StoreType {

		/**
		 * In Redis, through the application's RedisConnectionFactory.
		 */
		REDIS,

		/**
		 * In a table of the application's database, through its DataSource.
		 */
		JDBC,

		/**
		 * In this JVM's memory: for a single node, and lost on restart.
		 */
		MEMORY

	}

	/**
	 * Settings of the JDBC store.
	 */
	public static class Jdbc {

		/**
		 * Table of the records, optionally qualified by its schema.
		 */
		private String tableName = "idempotency_record";

		/**
		 * Whether a missing table is created at startup ('always') or reported, with the
		 * SQL that creates it ('never').
		 */
		private InitializeSchema initializeSchema = InitializeSchema.NEVER;

		/**
		 * Whether an @Idempotent method's result is stored within the transaction the
		 * method runs in on the same DataSource, so that it commits, or rolls back, with
		 * the method's own writes. When false, it is stored once that transaction has
		 * committed.
		 */
		private boolean completeInTransaction = false;

		/**
		 * The scheduled deletion of expired records.
		 */
		private final Purge purge = new Purge();

		public String getTableName() {
			return this.tableName;
		}

		public void setTableName(String tableName) {
			this.tableName = tableName;
		}

		public InitializeSchema getInitializeSchema() {
			return this.initializeSchema;
		}

		public void setInitializeSchema(InitializeSchema initializeSchema) {
			this.initializeSchema = initializeSchema;
		}

		public boolean isCompleteInTransaction() {
			return this.completeInTransaction;
		}

		public void setCompleteInTransaction(boolean completeInTransaction) {
			this.completeInTransaction = completeInTransaction;
		}

		public Purge getPurge() {
			return this.purge;
		}

		/**
		 * Whether the store creates its table.
		 */
		public enum InitializeSchema {

			/**
			 * Create the table at startup when it is missing.
			 */
			ALWAYS,

			/**
			 * Never create it; a missing table fails startup.
			 */
			NEVER

		}

		/**
		 * The scheduled deletion of expired records.
		 */
		public static class Purge {

			/**
			 * Whether expired records are deleted on a schedule. Expired records count as
			 * absent either way; purging keeps the table from growing.
			 */
			private boolean enabled = true;

			/**
			 * Time between purges; one that deleted as many batches as a run may is
			 * followed at once by the next.
			 */
			private Duration interval = Duration.ofMinutes(5);

			/**
			 * Most records one delete statement removes.
			 */
			private int batchSize = 1000;

			public boolean isEnabled() {
				return this.enabled;
			}

			public void setEnabled(boolean enabled) {
				this.enabled = enabled;
			}

			public Duration getInterval() {
				return this.interval;
			}

			public void setInterval(Duration interval) {
				this.interval = interval;
			}

			public int getBatchSize() {
				return this.batchSize;
			}

			public void setBatchSize(int batchSize) {
				this.batchSize = batchSize;
			}

		}

	}

}
