package io.github.idempotency.web;

import java.lang.reflect.Method;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.interceptor.Claim;
import io.github.idempotency.interceptor.Decision;
import io.github.idempotency.interceptor.IdempotencyKeyParser;
import io.github.idempotency.interceptor.IdempotencyLifecycle;
import io.github.idempotency.interceptor.IdempotencyOutcome;
import io.github.idempotency.interceptor.IdempotentOperation;
import io.github.idempotency.interceptor.KeyExpressionEvaluator;
import jakarta.servlet.http.HttpServletRequest;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.expression.EvaluationException;
import org.springframework.expression.spel.SpelEvaluationException;
import org.springframework.expression.spel.SpelMessage;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.util.LinkedCaseInsensitiveMap;
import org.springframework.web.servlet.HandlerMapping;

/**
 * The servlet path's adapter to the {@link IdempotencyLifecycle}: reads a request's key,
 * scope and fingerprint before its handler runs, turns the lifecycle's decision into the
 * handler running, a replay or a problem, and stores or releases the claim once the
 * response is known.
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
public class IdempotencyCoordinator {

	private static final Log logger = LogFactory.getLog(IdempotencyCoordinator.class);

	// The request methods HTTP defines; any other token is an extension method.
	static final Set<String> STANDARD_METHODS = Stream.of(HttpMethod.values())
		.map(HttpMethod::name)
		.collect(Collectors.toUnmodifiableSet());

	private static final Set<SpelMessage> WHATEVER_THE_REQUEST = EnumSet.of(SpelMessage.PROPERTY_OR_FIELD_NOT_READABLE,
			SpelMessage.METHOD_NOT_FOUND, SpelMessage.TYPE_NOT_FOUND);

	private final IdempotencyLifecycle lifecycle;

	private final HttpPolicy policy;

	private final RequestFingerprinter fingerprinter;

	private final IdempotencyKeyParser keyParser;

	private final IdempotencyScopeResolver scopeResolver;

	private final KeyExpressionEvaluator keyExpressions = new KeyExpressionEvaluator();

	private final Set<String> toldOfFailingKeys = ConcurrentHashMap.newKeySet();

	// The replayed headers but Content-Type, which the container may hold outside its
	// header list; compared ignoring case, as HTTP does.
	private final Set<String> replayedHeaderNames = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);

	private final boolean replayContentType;

	/**
	 * @param lifecycle claims keys and keeps records
	 * @param policy the HTTP settings applied to every request
	 * @param fingerprinter computes request fingerprints
	 * @param scopeResolver decides whose operation a key belongs to
	 */
	public IdempotencyCoordinator(IdempotencyLifecycle lifecycle, HttpPolicy policy, RequestFingerprinter fingerprinter,
			IdempotencyScopeResolver scopeResolver) {
		this.lifecycle = lifecycle;
		this.policy = policy;
		this.fingerprinter = fingerprinter;
		this.scopeResolver = scopeResolver;
		this.keyParser = new IdempotencyKeyParser(lifecycle.policy().maxKeyLength());
		this.replayedHeaderNames.addAll(policy.replayedHeaders());
		this.replayContentType = this.replayedHeaderNames.remove(HttpHeaders.CONTENT_TYPE);
		if (!this.replayContentType) {
			logger.warn("idempotency.replayed-headers leaves Content-Type out, so replays are sent without the type"
					+ " of their body, which a client may then fail to read; the list replaces the default one, so"
					+ " name Content-Type in it");
		}
	}

	/**
	 * The header that carries the key of an operation.
	 * @param operation the operation
	 * @return the header name
	 */
	public String headerName(IdempotentOperation operation) {
		return (operation.headerName() != null) ? operation.headerName() : this.policy.headerName();
	}

	HttpPolicy policy() {
		return this.policy;
	}

	void record(HttpServletRequest request, IdempotencyOutcome outcome) {
		this.lifecycle.record(tag(request), outcome);
	}

	// A handler mapped for every HTTP method takes made-up ones too: each would be a
	// counter of its own, kept for ever, so they count as one, as Spring's own request
	// metrics count them.
	private static String tag(HttpServletRequest request) {
		String method = request.getMethod();
		return (STANDARD_METHODS.contains(method) ? method : "UNKNOWN") + ' '
				+ request.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE);
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
			record(request, (ex.getProblem() == IdempotencyProblem.KEY_MISSING) ? IdempotencyOutcome.MISSING
					: IdempotencyOutcome.INVALID);
			throw ex;
		}
		if (key == null) {
			record(request, IdempotencyOutcome.BYPASSED);
			return;
		}
		String recordKey = Hashing.recordKey(this.scopeResolver.resolve(request), key);
		String fingerprint = this.fingerprinter.fingerprint(request, exchange.body());
		Decision decision = this.lifecycle.begin(operation, tag(request), recordKey, fingerprint);
		if (decision instanceof Decision.Proceed proceed) {
			exchange.claimed(proceed.claim());
		}
		else if (decision instanceof Decision.Replay replay) {
			throw new ReplayException(replay.response());
		}
		else if (decision instanceof Decision.Mismatch) {
			throw new IdempotencyProblemException(IdempotencyProblem.KEY_MISMATCH,
					"This idempotency key was already used for a different request. Use a new key for a new"
							+ " request.",
					null);
		}
		else if (decision instanceof Decision.InProgress) {
			throw new IdempotencyProblemException(IdempotencyProblem.REQUEST_IN_PROGRESS,
					"A request with this idempotency key is still being processed. Retry it unchanged, with the"
							+ " same key, after the Retry-After delay.",
					this.policy.inProgressRetryAfter());
		}
		else if (decision instanceof Decision.Unavailable) {
			throw new IdempotencyProblemException(IdempotencyProblem.STORE_UNAVAILABLE,
					"The request cannot be processed safely right now. Retry it later with the same idempotency key.",
					this.policy.storeUnavailableRetryAfter());
		}
	}

	/**
	 * Whether the answer of a request whose claim is ours went to the container's error
	 * page and is one to store: the error page's output is then stored in its stead.
	 */
	boolean isStoredFromErrorPage(IdempotentExchange exchange, CapturedResponse response) {
		return response.isErrorSent() && isOutcome(exchange, response.getStatus());
	}

	/**
	 * Stores the response of a request whose claim is ours, or releases the claim when
	 * the response should not be replayed: a server error, an exception no handler
	 * resolved, a response too large to keep, or one whose body went to an error page
	 * that is not stored in its stead. A claim whose request still has async work running
	 * (after an async timeout) is released only once that work stops.
	 */
	void finish(IdempotentExchange exchange, CapturedResponse response, @Nullable Throwable failure) {
		Claim claim = exchange.claim();
		if (claim == null) {
			return;
		}
		int status = response.getStatus();
		// An interrupted response (an async timeout, a client gone, an exception once
		// the body was committed) may look like a success with its body cut short.
		if (failure != null || response.isErrorSent() || !isOutcome(exchange, status)) {
			if (exchange.holdForRunningWork()) {
				logger.warn(exchange.operation().name() + " answered " + status + " while its async work still runs"
						+ " (did spring.mvc.async.request-timeout pass?); its idempotency key stays claimed, and"
						+ " retries get 409, until that work stops");
				return;
			}
			claim.release();
			return;
		}
		byte[] body = response.copyOfBody();
		if (body == null) {
			logger.warn("Response of " + exchange.operation().name() + " grew larger than"
					+ " idempotency.max-response-size (" + this.policy.maxResponseSize() + " bytes); it was sent"
					+ " but not stored, and a retry will run the handler again");
			claim.release();
			return;
		}
		StoredResponse stored;
		try {
			stored = new StoredResponse(status, replayedHeaders(response), body);
		}
		catch (IllegalArgumentException ex) {
			logger.warn("Response of " + exchange.operation().name() + " cannot be stored (" + ex.getMessage()
					+ "); it was sent, and a retry will run the handler again");
			claim.release();
			return;
		}
		// Whatever else keeps the record from being built, the claim must not stay held
		// until its renewals run out.
		catch (RuntimeException ex) {
			logger.error("Response of " + exchange.operation().name() + " could not be stored; it was sent, and a"
					+ " retry will run the handler again", ex);
			claim.release();
			return;
		}
		claim.complete(stored);
	}

	/**
	 * Releases the claim of a request; also called, once async work that outlived its
	 * request has stopped, on the thread that ran the work, so it touches no request
	 * state.
	 */
	void releaseNow(IdempotentExchange exchange) {
		Claim claim = exchange.claim();
		if (claim != null) {
			claim.release();
		}
	}

	private @Nullable String readKey(IdempotentOperation operation, HttpServletRequest request, Method method,
			Object[] arguments) {
		String raw;
		if (operation.keyExpression() != null) {
			try {
				raw = this.keyExpressions.evaluate(operation.keyExpression(), method, arguments);
			}
			catch (EvaluationException ex) {
				warnOnceIfNoRequestCouldPass(operation, ex);
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

	// A request whose body lacks what the expression reads through (#order.customer.id
	// without a customer) has no key, and so on for whatever depends on the request.
	// A property or method the type does not have, or a value without a text of its own,
	// fails every request alike: said once per operation, as it would otherwise look like
	// clients sending no key. The message names the expression's parts, not the
	// request's.
	private void warnOnceIfNoRequestCouldPass(IdempotentOperation operation, EvaluationException ex) {
		if (ex instanceof SpelEvaluationException spel && !WHATEVER_THE_REQUEST.contains(spel.getMessageCode())) {
			return;
		}
		if (this.toldOfFailingKeys.add(operation.name())) {
			logger.warn(operation.name() + ": its key expression '" + operation.keyExpression() + "' failed ("
					+ ex.getMessage() + "), and the request was handled as one without a key. Check the expression;"
					+ " this is said once");
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

	// Whether a response with this status is the outcome of the work, to be stored: not
	// one cut short, nor one sent while the work still runs.
	private boolean isOutcome(IdempotentExchange exchange, int status) {
		return isReplayable(status) && !exchange.isInterrupted() && !exchange.isWorkRunning();
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
		if (this.replayedHeaderNames.contains(HttpHeaders.CONTENT_LANGUAGE)
				&& !headers.containsKey(HttpHeaders.CONTENT_LANGUAGE)) {
			String language = response.contentLanguage();
			if (language != null) {
				headers.put(HttpHeaders.CONTENT_LANGUAGE, List.of(language));
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

}
