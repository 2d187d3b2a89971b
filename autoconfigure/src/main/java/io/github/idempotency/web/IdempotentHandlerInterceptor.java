package io.github.idempotency.web;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.nio.channels.ClosedChannelException;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.github.idempotency.interceptor.IdempotencyOutcome;
import io.github.idempotency.interceptor.IdempotentOperation;
import io.github.idempotency.interceptor.IdempotentOperationSource;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.http.MediaType;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;
import org.springframework.web.util.ContentCachingRequestWrapper;
import org.springframework.web.util.WebUtils;

/**
 * Prepares requests that reach an idempotent handler, and finishes them once their
 * response is written.
 *
 * <p>
 * Before the handler's arguments are bound, it reads the whole body (answering 413 above
 * {@code idempotency.max-body-size}) so that the fingerprint exists when the key is
 * claimed, starts capturing the response, and has the async work the handler may start
 * followed to its end ({@link AsyncWorkTracker}). {@link IdempotencyFilter} has the claim
 * completed or released once the response is complete, and only then lets a body it held
 * back reach the client: a client that has seen a response will find it stored when it
 * retries.
 *
 * <p>
 * Requires {@link IdempotencyFilter} in front of the {@code DispatcherServlet}: an
 * idempotent handler that a request reaches without it is refused with a 503 problem
 * rather than run unprotected. Thread-safe.
 *
 * @since 0.1.0
 */
public class IdempotentHandlerInterceptor implements HandlerInterceptor {

	private static final Log logger = LogFactory.getLog(IdempotentHandlerInterceptor.class);

	// A wrapper that does not override getInputStream, or Spring's caching one, which
	// keeps a copy of what it passes on.
	private static final ClassValue<Boolean> PASSES_THE_STREAM_ON = new ClassValue<>() {

		@Override
		protected Boolean computeValue(Class<?> type) {
			try {
				return type == ContentCachingRequestWrapper.class
						|| type.getMethod("getInputStream").getDeclaringClass() == ServletRequestWrapper.class;
			}
			catch (NoSuchMethodException ex) {
				return false;
			}
		}

	};

	// Tomcat 10.1's reasons for a form it could not parse whole because the body broke
	// off (it no longer sets its REQUEST_BODY_INCOMPLETE).
	private static final Set<String> FORM_CUT_SHORT = Set.of("CLIENT_DISCONNECT", "IO_ERROR");

	private final IdempotentOperationSource operations;

	private final IdempotencyCoordinator coordinator;

	private final ProblemResponseWriter problemWriter;

	private final Set<String> methods;

	private final IdempotentHandlerVerifier verifier;

	private final AsyncWorkTracker asyncWork = new AsyncWorkTracker();

	private final Map<Method, Boolean> streaming = new ConcurrentHashMap<>();

	private final Map<Method, HandlerOperation> handlerOperations = new ConcurrentHashMap<>();

	/**
	 * @param operations tells which handlers are idempotent
	 * @param coordinator claims, decides and completes
	 * @param problemWriter writes the 413 and 503 answers
	 * @param methods the request methods a class-level annotation covers, upper case
	 * @param verifier refuses handlers that would run unprotected
	 */
	public IdempotentHandlerInterceptor(IdempotentOperationSource operations, IdempotencyCoordinator coordinator,
			ProblemResponseWriter problemWriter, Set<String> methods, IdempotentHandlerVerifier verifier) {
		this.operations = operations;
		this.coordinator = coordinator;
		this.problemWriter = problemWriter;
		this.methods = Set.copyOf(methods);
		this.verifier = verifier;
		// Any token is a request method, so a misspelt one is not refused, and a
		// class-level annotation would leave the method meant unprotected.
		for (String method : this.methods) {
			if (!IdempotencyCoordinator.STANDARD_METHODS.contains(method)) {
				logger.warn("idempotency.methods lists " + method + ", which is no standard request method: a"
						+ " class-level @Idempotent covers a handler only for requests that use it");
			}
		}
	}

	// The handler's answer is whole, short of what filters write on the way out, once the
	// DispatcherServlet is done with the dispatch (not a forward or include, which ends
	// inside another) without an exception it passes on.
	@Override
	public void afterCompletion(HttpServletRequest request, HttpServletResponse response, Object handler,
			@Nullable Exception ex) {
		if (ex == null && request.getDispatcherType() != DispatcherType.FORWARD
				&& request.getDispatcherType() != DispatcherType.INCLUDE
				&& request.getAttribute(IdempotentExchange.ATTRIBUTE) instanceof IdempotentExchange exchange) {
			exchange.dispatchEnded();
		}
	}

	@Override
	public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler)
			throws IOException {
		// Only requests the filter prepared have one.
		IdempotencyFilter.SwappableRequest swappableRequest = WebUtils.getNativeRequest(request,
				IdempotencyFilter.SwappableRequest.class);
		if (swappableRequest != null) {
			swappableRequest.interceptorRan();
		}
		if (!(handler instanceof HandlerMethod handlerMethod)
				|| request.getAttribute(IdempotentExchange.ATTRIBUTE) != null) {
			return true;
		}
		IdempotentOperation operation = operation(handlerMethod);
		if (operation == null || !(operation.declaredOnMethod() || this.methods.contains(request.getMethod()))) {
			return true;
		}
		IdempotencyFilter.SwappableResponse swappableResponse = WebUtils.getNativeResponse(response,
				IdempotencyFilter.SwappableResponse.class);
		String unprotected = whyUnprotected(request, handlerMethod, operation, swappableRequest, swappableResponse);
		if (unprotected != null) {
			return refuseUnprotected(request, response, unprotected);
		}
		if (operation.keyExpression() == null && !operation.required()
				&& request.getHeader(this.coordinator.headerName(operation)) == null) {
			// Counted on the dispatch to the handler, not again on its async dispatch.
			if (request.getDispatcherType() != DispatcherType.ASYNC) {
				this.coordinator.record(request, IdempotencyOutcome.BYPASSED);
			}
			return true;
		}
		// Async processing started before the handler ran, by a filter or an interceptor
		// (reached here on its own dispatch, or with it started), ends where the starter
		// cannot follow it: the answer would be neither stored nor sent, and the key
		// would stay claimed until renewal gave up. Spring MVC's own async processing
		// starts after the handler, and its dispatches carry the exchange.
		if (request.getDispatcherType() == DispatcherType.ASYNC || request.isAsyncStarted()) {
			return refuseUnprotected(request, response, operation.name() + " is @Idempotent but was reached with"
					+ " async processing a filter or an interceptor started before it, whose end the starter cannot"
					+ " follow");
		}
		byte[] body = null;
		MediaType formType = formType(request);
		boolean form = formType != null;
		if (form && formCutShort(request)) {
			return refuseIncomplete(request, response, "The form data could not be read in full.");
		}
		if (!form || mayBeUnparsedForm(request, formType)) {
			// The body is taken as it reached the starter's filter, beneath the wrappers
			// made after it: one that decodes as it is read decodes it once, when the
			// handler reads. The length the client declared is the body's only if the
			// body is the container's: a filter may hand on a body of another length.
			ServletRequest beneath = swappableRequest.getRequest();
			boolean containersStream = readsTheContainersStream(beneath);
			long declared = containersStream ? beneath.getContentLengthLong() : -1;
			try {
				// A form's declared length is not checked up front: the container may
				// have parsed the form after all, and a body that large be none of ours.
				body = readBody(swappableRequest, form ? -1 : declared);
			}
			catch (IOException ex) {
				if (!containersStream) {
					throw ex;
				}
				// The client stopped sending, or its connection broke. The container may
				// have answered already (Tomcat does, with its own error page).
				logger.debug("The body of a request to an idempotent handler could not be read", ex);
				return refuseIncomplete(request, response, "The request body could not be read in full.");
			}
			if (body == null) {
				this.coordinator.record(request, IdempotencyOutcome.TOO_LARGE);
				this.problemWriter.write(
						new IdempotencyProblemException(
								IdempotencyProblem.REQUEST_TOO_LARGE, "The request body is larger than the "
										+ this.coordinator.policy().maxBodySize() + " bytes this operation accepts.",
								null),
						request, response);
				return false;
			}
			if (form && body.length == 0) {
				// The container read the form into parameters, or none of it arrived.
				if (declared > 0 && !formReadIntoParameters(request)) {
					return refuseIncomplete(request, response, "The form data ended before any of the " + declared
							+ " bytes its Content-Length announced.");
				}
				body = null;
			}
			// A container may end the body of an HTTP/2 request whose client reset the
			// stream as if it were complete: run on what arrived, the handler would do
			// what the client never asked, and the key would refuse the body it retries.
			else if (body.length < declared) {
				return refuseIncomplete(request, response, "The request body ended after " + body.length + " of the "
						+ declared + " bytes its Content-Length announced.");
			}
			else {
				swappableRequest.buffer(body);
			}
		}
		CapturedResponse captured = new CapturedResponse((HttpServletResponse) swappableResponse.getResponse(),
				this.coordinator.policy().maxResponseSize(), writesItsOwnStream(handlerMethod));
		swappableResponse.setResponse(captured);
		IdempotentExchange exchange = new IdempotentExchange(this.coordinator, operation, handlerMethod, request, body,
				captured, this.asyncWork);
		request.setAttribute(IdempotentExchange.ATTRIBUTE, exchange);
		swappableRequest.exchange = exchange;
		return true;
	}

	private boolean refuseUnprotected(HttpServletRequest request, HttpServletResponse response, String why)
			throws IOException {
		this.problemWriter.write(
				new IdempotencyProblemException(IdempotencyProblem.NOT_PROTECTED,
						"This operation cannot be processed safely: idempotency is not in effect for it.", null),
				request, response);
		logger.error(why);
		return false;
	}

	private boolean refuseIncomplete(HttpServletRequest request, HttpServletResponse response, String detail)
			throws IOException {
		this.coordinator.record(request, IdempotencyOutcome.INCOMPLETE);
		this.problemWriter.write(new IdempotencyProblemException(IdempotencyProblem.REQUEST_INCOMPLETE, detail, null),
				request, response);
		return false;
	}

	// Why the handler cannot be protected on this request, or null when it can.
	private @Nullable String whyUnprotected(HttpServletRequest request, HandlerMethod handlerMethod,
			IdempotentOperation operation, IdempotencyFilter.@Nullable SwappableRequest swappableRequest,
			IdempotencyFilter.@Nullable SwappableResponse swappableResponse) {
		if (swappableRequest == null || swappableResponse == null) {
			return operation.name() + " is @Idempotent but the request reached it without IdempotencyFilter's"
					+ " preparation: the filter is not registered in front of the DispatcherServlet, or the handler"
					+ " was mapped after startup";
		}
		if (includedIntoAnother(request, swappableRequest)) {
			return operation.name() + " is @Idempotent but was included by a request that IdempotencyFilter"
					+ " prepared for the including handler: an include is protected only from a request that no"
					+ " idempotent route matches";
		}
		String problem = this.verifier.problem(handlerMethod, handlerMethod.getBean());
		if (problem == null && request.getDispatcherType() == DispatcherType.INCLUDE
				&& IdempotentHandlerVerifier.mayAnswerAsynchronously(handlerMethod)) {
			return operation.name() + " is @Idempotent but may answer asynchronously, which an include cannot:"
					+ " its work would end after the include returned, and Spring MVC would dispatch its result to"
					+ " the including handler";
		}
		return problem;
	}

	// The filter skips an include when it prepared the including request: the wrappers
	// are that request's, which finishes once, at its end, whatever its includes did.
	private static boolean includedIntoAnother(HttpServletRequest request,
			IdempotencyFilter.SwappableRequest swappableRequest) {
		return request.getDispatcherType() == DispatcherType.INCLUDE
				&& swappableRequest.dispatcherType() != DispatcherType.INCLUDE;
	}

	// Every request to every handler asks, idempotent or not: looked up by the method
	// alone, which allocates nothing, and checked against the bean type it was found for.
	// A method that several controllers inherit is looked up again when the type changes.
	private @Nullable IdempotentOperation operation(HandlerMethod handler) {
		Class<?> beanType = handler.getBeanType();
		HandlerOperation known = this.handlerOperations.get(handler.getMethod());
		if (known == null || known.beanType() != beanType) {
			known = new HandlerOperation(beanType, this.operations.getOperation(handler.getMethod(), beanType));
			this.handlerOperations.put(handler.getMethod(), known);
		}
		return known.operation();
	}

	// A StreamingResponseBody writes the stream itself, and flushes it to send. Decided
	// once per handler: resolving a ResponseEntity's body type allocates.
	private boolean writesItsOwnStream(HandlerMethod handler) {
		return this.streaming.computeIfAbsent(handler.getMethod(), (method) -> StreamingResponseBody.class
			.isAssignableFrom(IdempotentHandlerVerifier.returnedType(handler)));
	}

	// Null when the body is larger than allowed; shorter than declared when it ended
	// early. The declared length is -1 when unknown, or not the body's. Filters may have
	// read a part already, before the handler was chosen.
	private byte @Nullable [] readBody(IdempotencyFilter.SwappableRequest request, long declared) throws IOException {
		long limit = this.coordinator.policy().maxBodySize();
		if (declared > limit) {
			return null;
		}
		byte[] early = request.bodyReadEarly();
		if (early == null || early.length > limit) {
			return null;
		}
		InputStream rest = request.restOfBody();
		if (declared >= 0) {
			// The common case: read exactly what was announced, then check nothing
			// follows.
			byte[] body = joined(early, rest.readNBytes((int) Math.max(0, declared - early.length)));
			return (rest.read() == -1) ? body : null;
		}
		byte[] body = joined(early, rest.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1 - early.length)));
		return (body.length > limit) ? null : body;
	}

	private static byte[] joined(byte[] first, byte[] second) {
		if (first.length == 0 || second.length == 0) {
			return (first.length == 0) ? second : first;
		}
		byte[] joined = Arrays.copyOf(first, first.length + second.length);
		System.arraycopy(second, 0, joined, first.length, second.length);
		return joined;
	}

	// Whether the body is read from the container's stream as the client sent it, rather
	// than from a filter's that hands on another (decrypted, unwrapped or inflated, say):
	// every wrapper on the way passes the stream on. Decided from their classes, so that
	// no stream is asked for twice, nor before the body is known to be wanted (asking
	// sends 100 Continue).
	private static boolean readsTheContainersStream(ServletRequest request) {
		ServletRequest current = request;
		while (current instanceof ServletRequestWrapper wrapper) {
			if (!PASSES_THE_STREAM_ON.get(wrapper.getClass())) {
				return false;
			}
			current = wrapper.getRequest();
		}
		return true;
	}

	// The container parses form data when its parameters are first asked for. Jetty,
	// Undertow and Tomcat 11 fail when the body broke off; Tomcat 10.1 keeps the
	// parameters it parsed before and tells so only in an attribute: the handler would
	// run on part of the form.
	private static boolean formCutShort(HttpServletRequest request) {
		try {
			request.getParameterMap();
		}
		catch (RuntimeException ex) {
			if (!brokeOff(ex)) {
				throw ex;
			}
			logger.debug("The form data of a request to an idempotent handler could not be read", ex);
			return true;
		}
		Object reason = request.getAttribute("org.apache.catalina.parameter_parse_failed_reason");
		return reason != null && FORM_CUT_SHORT.contains(reason.toString());
	}

	// Whether a form could not be parsed because its body broke off (the client stopped
	// sending, or its connection broke), rather than because it is malformed or too
	// large, which containers also report with IOExceptions, of their own types: an end
	// of stream, a closed channel, Tomcat's ClientAbortException, or a bare IOException
	// (Undertow's).
	private static boolean brokeOff(Throwable failure) {
		// Bounded: causes may form a cycle.
		Throwable cause = failure;
		for (int depth = 0; cause != null && depth < 32; depth++, cause = cause.getCause()) {
			if (cause instanceof EOFException || cause instanceof ClosedChannelException
					|| cause.getClass() == IOException.class
					|| cause.getClass().getName().equals("org.apache.catalina.connector.ClientAbortException")) {
				return true;
			}
		}
		return false;
	}

	// Containers parse a form sent with POST into parameters; for other methods some
	// do and some do not (Tomcat does not), and Spring's FormContentFilter does when it
	// is on, reading the body before the starter's filter runs. A form body nobody read
	// counts as any other body, else a key reused with another would be replayed; so
	// does one a later filter read (it reads through the starter's wrapper, which keeps
	// what it read). Multipart data is Spring MVC's to resolve, before the handler is
	// chosen.
	private static boolean mayBeUnparsedForm(HttpServletRequest request, MediaType formType) {
		return !"POST".equals(request.getMethod()) && MediaType.APPLICATION_FORM_URLENCODED.includes(formType);
	}

	// Whether parameters came from the body: more values than the query string holds.
	private static boolean formReadIntoParameters(HttpServletRequest request) {
		String query = request.getQueryString();
		long inQuery = (query != null) ? Arrays.stream(query.split("&")).filter((pair) -> !pair.isEmpty()).count() : 0;
		long values = request.getParameterMap().values().stream().mapToLong((found) -> found.length).sum();
		return values > inQuery;
	}

	// The container parses form data into parameters itself, reading the body from its
	// own buffer; reading it here would leave the handler's @RequestParam values empty.
	// The type of form data, null for any other body.
	private static @Nullable MediaType formType(HttpServletRequest request) {
		String contentType = request.getContentType();
		if (contentType == null) {
			return null;
		}
		try {
			MediaType type = MediaType.parseMediaType(contentType);
			return (MediaType.APPLICATION_FORM_URLENCODED.includes(type) || "multipart".equals(type.getType())) ? type
					: null;
		}
		catch (IllegalArgumentException ex) {
			return null;
		}
	}

	private record HandlerOperation(Class<?> beanType, @Nullable IdempotentOperation operation) {
	}

}
