package io.github.idempotency.web;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.UnreadableRecordException;
import io.github.idempotency.interceptor.IdempotentOperation;
import io.github.idempotency.web.IdempotencyPolicy.OnStoreFailure;
import jakarta.servlet.http.HttpServletRequest;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.expression.EvaluationException;
import org.springframework.http.HttpHeaders;
import org.springframework.util.LinkedCaseInsensitiveMap;
import org.springframework.web.servlet.HandlerMapping;

/**
 * Claims an idempotency key before its handler runs, decides what a request with a key
 * already in use gets, and stores or releases the claim once the response is known. This
 * is where the request lifecycle lives; the other web types only get the request and
 * response to it.
 *
 * <p>
 * Records are scoped by an {@link IdempotencyScopeResolver}: by default the request
 * method, the route pattern and the authenticated principal, so one key sent to two
 * endpoints, or by two users, names two operations. The record key is a hash of scope and
 * client key: the client's key never reaches the store as written.
 *
 * <p>
 * Thread-safe; the per-request state lives in {@link IdempotentExchange}.
 *
 * @since 0.1.0
 */
public class IdempotencyCoordinator implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(IdempotencyCoordinator.class);

	private static final long FIRST_POLL_MILLIS = 10;

	private static final long LONGEST_POLL_MILLIS = 250;

	private final IdempotencyStore store;

	private final IdempotencyPolicy policy;

	private final RequestFingerprinter fingerprinter;

	private final IdempotencyKeyParser keyParser;

	private final IdempotencyScopeResolver scopeResolver;

	private final IdempotencyOutcomeListener outcomes;

	private final StoreFailureLog storeFailures = new StoreFailureLog("Idempotency store unavailable");

	private final KeyExpressionEvaluator keyExpressions = new KeyExpressionEvaluator();

	private final LeaseRenewals renewals;

	// The replayed headers but Content-Type, which the container may hold outside its
	// header list; compared ignoring case, as HTTP does.
	private final Set<String> replayedHeaderNames = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);

	private final boolean replayContentType;

	/**
	 * @param store where records live
	 * @param policy the settings applied to every request
	 * @param fingerprinter computes request fingerprints
	 * @param scopeResolver decides whose operation a key belongs to
	 * @param outcomes told what became of each request
	 */
	public IdempotencyCoordinator(IdempotencyStore store, IdempotencyPolicy policy, RequestFingerprinter fingerprinter,
			IdempotencyScopeResolver scopeResolver, IdempotencyOutcomeListener outcomes) {
		this.store = store;
		this.policy = policy;
		this.fingerprinter = fingerprinter;
		this.scopeResolver = scopeResolver;
		this.outcomes = outcomes;
		this.keyParser = new IdempotencyKeyParser(policy.maxKeyLength());
		this.renewals = new LeaseRenewals(store, policy.lockRenewalMaxDuration());
		this.replayedHeaderNames.addAll(policy.replayedHeaders());
		this.replayContentType = this.replayedHeaderNames.remove(HttpHeaders.CONTENT_TYPE);
	}

	/**
	 * Stops renewing leases. Claims still running then expire after their lock timeout.
	 */
	@Override
	public void close() {
		this.renewals.close();
	}

	/**
	 * The header that carries the key of an operation.
	 * @param operation the operation
	 * @return the header name
	 */
	public String headerName(IdempotentOperation operation) {
		return (operation.headerName() != null) ? operation.headerName() : this.policy.headerName();
	}

	IdempotencyPolicy policy() {
		return this.policy;
	}

	void record(HttpServletRequest request, IdempotencyOutcome outcome) {
		this.outcomes.onOutcome(
				request.getMethod() + ' ' + request.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE),
				outcome);
	}

	/**
	 * Claims the key of a request whose handler is about to run. Returns normally when
	 * the handler should run: the claim is ours, or the request goes without idempotency.
	 * Otherwise throws what answers the request instead.
	 */
	void begin(IdempotentExchange exchange, Method method, Object[] arguments) {
		IdempotentOperation operation = exchange.operation();
		HttpServletRequest request = exchange.request();
		String key;
		try {
			key = readKey(operation, request, method, arguments);
		}
		catch (IdempotencyProblemException ex) {
			record(request, IdempotencyOutcome.INVALID_KEY);
			throw ex;
		}
		if (key == null) {
			record(request, IdempotencyOutcome.BYPASSED);
			exchange.bypass();
			return;
		}
		String recordKey = RequestFingerprinter.recordKey(this.scopeResolver.resolve(request), key);
		String fingerprint = this.fingerprinter.fingerprint(request, exchange.body());
		Duration lease = (operation.lockTimeout() != null) ? operation.lockTimeout() : this.policy.lockTimeout();
		Duration ttl = (operation.ttl() != null) ? operation.ttl() : this.policy.ttl();
		long waitUntil = System.nanoTime() + this.policy.waitTimeout().toNanos();
		long pollMillis = FIRST_POLL_MILLIS;
		while (true) {
			ClaimResult result;
			try {
				result = this.store.claim(recordKey, fingerprint, lease);
			}
			catch (UnreadableRecordException ex) {
				record(request, IdempotencyOutcome.UNREADABLE_RECORD);
				logger.error(ex.getMessage() + "; it is neither replayed nor overwritten. Delete it (the idempotency"
						+ " Actuator endpoint does) once you know where it came from.");
				onStoreFailure(exchange, ex);
				return;
			}
			catch (IdempotencyStoreException ex) {
				record(request, IdempotencyOutcome.STORE_UNAVAILABLE);
				onStoreFailure(exchange, ex);
				return;
			}
			this.storeFailures.answered();
			if (result instanceof ClaimResult.Claimed claimed) {
				record(request, IdempotencyOutcome.EXECUTED);
				exchange.claimed(recordKey, claimed.token(), ttl, renewWhileRunning(recordKey, claimed.token(), lease));
				return;
			}
			if (result instanceof ClaimResult.Completed completed) {
				record(request, IdempotencyOutcome.REPLAYED);
				throw new ReplayException(completed.response());
			}
			if (result instanceof ClaimResult.Mismatch) {
				record(request, IdempotencyOutcome.MISMATCH);
				if (logger.isDebugEnabled()) {
					logger.debug("Key mismatch on record " + recordKey);
				}
				throw new IdempotencyProblemException(IdempotencyProblem.KEY_MISMATCH,
						"This idempotency key was already used for a different request. Use a new key for a new"
								+ " request.",
						null);
			}
			long remainingMillis = Duration.ofNanos(waitUntil - System.nanoTime()).toMillis();
			if (remainingMillis <= 0 || !pause(Math.min(pollMillis, remainingMillis))) {
				record(request, IdempotencyOutcome.CONFLICT);
				if (logger.isDebugEnabled()) {
					logger.debug("Request in progress on record " + recordKey);
				}
				throw new IdempotencyProblemException(IdempotencyProblem.REQUEST_IN_PROGRESS,
						"A request with this idempotency key is still being processed. Retry it unchanged, with the"
								+ " same key, after the Retry-After delay.",
						this.policy.inProgressRetryAfter());
			}
			pollMillis = Math.min(pollMillis * 2, LONGEST_POLL_MILLIS);
		}
	}

	/**
	 * Stores the response of a request whose claim is ours, or releases the claim when
	 * the response should not be replayed: a server error, an exception no handler
	 * resolved, a response too large to keep, or one whose body went to the container's
	 * error page. A claim whose request still has async work running (after an async
	 * timeout) is released only once that work stops.
	 */
	void finish(IdempotentExchange exchange, CapturedResponse response, @Nullable Throwable failure) {
		String recordKey = exchange.recordKey();
		String token = exchange.token();
		if (recordKey == null || token == null) {
			return;
		}
		int status = response.getStatus();
		// An interrupted response (an async timeout, a client gone, an exception once
		// the body was committed) may look like a success with its body cut short.
		if (failure != null || response.isErrorSent() || !isReplayable(status) || exchange.isInterrupted()
				|| exchange.isWorkRunning()) {
			if (exchange.holdForRunningWork()) {
				logger.warn(exchange.operation().name() + " answered " + status + " while its async work still runs"
						+ " (did spring.mvc.async.request-timeout pass?); its idempotency key stays claimed, and"
						+ " retries get 409, until that work stops");
				return;
			}
			releaseNow(exchange);
			return;
		}
		byte[] body = response.copyOfBody();
		if (body == null) {
			logger.warn("Response of " + exchange.operation().name() + " grew larger than"
					+ " idempotency.max-response-size (" + this.policy.maxResponseSize() + " bytes); it was sent"
					+ " but not stored, and a retry will run the handler again");
			releaseNow(exchange);
			return;
		}
		StoredResponse stored;
		try {
			stored = new StoredResponse(status, replayedHeaders(response), body);
		}
		catch (IllegalArgumentException ex) {
			logger.warn("Response of " + exchange.operation().name() + " cannot be stored (" + ex.getMessage()
					+ "); it was sent, and a retry will run the handler again");
			releaseNow(exchange);
			return;
		}
		stopRenewal(exchange);
		try {
			if (!this.store.complete(recordKey, token, stored, exchange.ttl())) {
				logger.warn("Lease on idempotency record " + recordKey + " was lost before the response was stored;"
						+ " raise idempotency.lock-timeout above the handler's longest run");
			}
		}
		catch (IdempotencyStoreException ex) {
			logger.error("Could not store the response of idempotency record " + recordKey + "; retries get 409 until"
					+ " the lock timeout passes, then run the handler again", ex);
		}
	}

	/**
	 * Stops renewing a claim and releases it; also called, once async work that outlived
	 * its request has stopped, on the thread that ran the work, so it touches no request
	 * state.
	 */
	void releaseNow(IdempotentExchange exchange) {
		stopRenewal(exchange);
		String recordKey = exchange.recordKey();
		String token = exchange.token();
		if (recordKey != null && token != null) {
			release(recordKey, token);
		}
	}

	private static void stopRenewal(IdempotentExchange exchange) {
		LeaseRenewals.Claim renewal = exchange.renewal();
		if (renewal != null) {
			renewal.stop();
		}
	}

	private LeaseRenewals.@Nullable Claim renewWhileRunning(String recordKey, String token, Duration lease) {
		if (!this.policy.lockRenewal()) {
			return null;
		}
		// At most a third of this operation's lease, whatever is configured: an operation
		// may declare a lock timeout shorter than the configured interval, and its lease
		// would lapse before the first renewal. Not Duration.dividedBy, which divides
		// through BigDecimal on every request.
		Duration third = Duration.ofNanos(lease.toNanos() / 3);
		Duration configured = this.policy.lockRenewalInterval();
		Duration interval = (configured != null && configured.compareTo(third) < 0) ? configured : third;
		return this.renewals.start(recordKey, token, lease, interval);
	}

	private @Nullable String readKey(IdempotentOperation operation, HttpServletRequest request, Method method,
			Object[] arguments) {
		String raw;
		if (operation.keyExpression() != null) {
			try {
				raw = this.keyExpressions.evaluate(operation.keyExpression(), method, arguments);
			}
			catch (EvaluationException ex) {
				raw = null;
			}
		}
		else {
			raw = singleHeader(request, headerName(operation));
		}
		if (raw == null) {
			if (!operation.required()) {
				return null;
			}
			String where = (operation.keyExpression() != null) ? "in the request body"
					: "in the " + headerName(operation) + " header";
			throw new IdempotencyProblemException(IdempotencyProblem.KEY_MISSING,
					"This operation requires an idempotency key " + where + ".", null);
		}
		try {
			return (operation.keyExpression() != null) ? this.keyParser.check(raw) : this.keyParser.parse(raw);
		}
		catch (IdempotencyKeyParser.InvalidKeyException ex) {
			throw new IdempotencyProblemException(IdempotencyProblem.KEY_INVALID, ex.getMessage(), null);
		}
	}

	private static @Nullable String singleHeader(HttpServletRequest request, String name) {
		var values = request.getHeaders(name);
		if (values == null || !values.hasMoreElements()) {
			return null;
		}
		String value = values.nextElement();
		if (values.hasMoreElements()) {
			throw new IdempotencyProblemException(IdempotencyProblem.KEY_INVALID,
					"The request has more than one " + name + " header.", null);
		}
		return value;
	}

	private void onStoreFailure(IdempotentExchange exchange, IdempotencyStoreException ex) {
		if (this.policy.onStoreFailure() == OnStoreFailure.PROCEED) {
			this.storeFailures.failed("running " + exchange.operation().name()
					+ " without idempotency (idempotency.on-store-failure=proceed)", ex);
			exchange.bypass();
			return;
		}
		this.storeFailures.failed("answering 503 (idempotency.on-store-failure=reject)", ex);
		throw new IdempotencyProblemException(IdempotencyProblem.STORE_UNAVAILABLE,
				"The request cannot be processed safely right now. Retry it later with the same idempotency key.",
				this.policy.storeUnavailableRetryAfter());
	}

	private void release(String recordKey, String token) {
		try {
			this.store.release(recordKey, token);
		}
		catch (IdempotencyStoreException ex) {
			logger.warn("Could not release idempotency record " + recordKey + "; it frees itself when the lock"
					+ " timeout passes: " + ex.getMessage());
		}
	}

	private boolean isReplayable(int status) {
		if (status >= 500) {
			return this.policy.replayServerErrors();
		}
		if (status == 408 || status == 429) {
			return false;
		}
		if (status >= 400) {
			return this.policy.replayClientErrors();
		}
		return status >= 200;
	}

	// Walks the headers the response has, usually a handful, rather than asking for
	// each of the configured names.
	private Map<String, List<String>> replayedHeaders(CapturedResponse response) {
		// Names may repeat, once per value, and in any case.
		Map<String, List<String>> headers = new LinkedCaseInsensitiveMap<>(4);
		if (this.replayContentType && response.getContentType() != null) {
			headers.put(HttpHeaders.CONTENT_TYPE, List.of(response.getContentType()));
		}
		for (String name : response.getHeaderNames()) {
			if (this.replayedHeaderNames.contains(name) && !headers.containsKey(name)) {
				headers.put(name, response.getHeaders(name).stream().map(IdempotencyCoordinator::asSent).toList());
			}
		}
		return headers;
	}

	// A servlet container writes a control character in a header value as a space (Tomcat
	// does), so that is what the client received, and what a replay must send.
	private static String asSent(String value) {
		if (value.chars().noneMatch(IdempotencyCoordinator::isControl)) {
			return value;
		}
		return value.chars()
			.map((c) -> isControl(c) ? ' ' : c)
			.collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
			.toString();
	}

	private static boolean isControl(int c) {
		return (c < 0x20 && c != '\t') || c == 0x7F;
	}

	private static boolean pause(long millis) {
		try {
			Thread.sleep(millis);
			return true;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

}
