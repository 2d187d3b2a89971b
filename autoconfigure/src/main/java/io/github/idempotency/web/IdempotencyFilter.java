package io.github.idempotency.web;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;
import org.springframework.web.filter.GenericFilterBean;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.util.WebUtils;

/**
 * Gives {@link IdempotentHandlerInterceptor} a place to buffer the request body and
 * capture the response of requests that turn out to reach an idempotent handler, and
 * stores or releases their claim once the response is complete.
 *
 * <p>
 * Which handler a request reaches is known only inside the {@code DispatcherServlet},
 * after this filter has run. So for every request that {@link IdempotentRequestMatcher}
 * says may reach an idempotent handler, the filter passes down wrappers that do nothing
 * by themselves; the interceptor swaps buffering and capturing delegates into them once
 * it sees an idempotent handler. Every other request, including streaming responses and
 * uploads to ordinary endpoints, passes through untouched. The body is buffered as it
 * reaches this filter: what filters that run after it read of the body before the handler
 * is chosen passes through the request wrapper, which keeps a copy (up to
 * {@code idempotency.max-body-size}) for the interceptor.
 *
 * <p>
 * The response is complete only when the filter chain returns to this filter: filters
 * that run after it, such as one that buffers bodies to log them, write their part on the
 * way out. So the record is stored (or the claim released) here, after the last dispatch
 * of the request, never earlier; replays pass down through those filters like any
 * response. A forward ends the response, so a forward from a request this filter prepared
 * is finished as the forward returns here, as is one from an error page it captures. An
 * answer sent with {@code sendError} is complete later still, once the container has
 * rendered its error page in a dispatch this filter also sees (see
 * {@link IdempotencyRequestListener}).
 *
 * <p>
 * Register it for every dispatcher type: it finishes async handlers on their async
 * dispatch, error pages on theirs, and prepares a forward or include that reaches an
 * idempotent handler from a request it did not prepare.
 *
 * @since 0.1.0
 */
public class IdempotencyFilter extends GenericFilterBean {

	// Spring MVC's wrapper of an async request's response, whose stream and writer pass
	// writes on as they come, once they checked the request is still usable.
	private static final String ASYNC_RESPONSE = "org.springframework.web.context.request.async."
			+ "StandardServletAsyncWebRequest$LifecycleHttpServletResponse";

	// A response wrapper that passes writes on as they come: one that hands out the
	// stream and the writer of the response it wraps, or Spring MVC's async one.
	private static final ClassValue<Boolean> PASSES_WRITES_ON = new ClassValue<>() {

		@Override
		protected Boolean computeValue(Class<?> type) {
			if (type.getName().equals(ASYNC_RESPONSE)) {
				return true;
			}
			try {
				return type.getMethod("getOutputStream").getDeclaringClass() == ServletResponseWrapper.class
						&& type.getMethod("getWriter").getDeclaringClass() == ServletResponseWrapper.class;
			}
			catch (NoSuchMethodException ex) {
				return false;
			}
		}

	};

	// Set while this filter handles a dispatch of the request.
	private static final String HANDLING = IdempotencyFilter.class.getName() + ".HANDLING";

	// Set while the container's error page renders a stored answer, until stored.
	private static final String ERROR_PAGE = IdempotencyFilter.class.getName() + ".ERROR_PAGE";

	private final IdempotentRequestMatcher matcher;

	private final long maxBodySize;

	/**
	 * @param matcher tells which requests may reach an idempotent handler
	 * @param maxBodySize the largest request body kept, in bytes
	 * ({@code idempotency.max-body-size})
	 */
	public IdempotencyFilter(IdempotentRequestMatcher matcher, long maxBodySize) {
		this.matcher = matcher;
		this.maxBodySize = maxBodySize;
	}

	@Override
	public void doFilter(ServletRequest servletRequest, ServletResponse servletResponse, FilterChain chain)
			throws IOException, ServletException {
		if (!(servletRequest instanceof HttpServletRequest request)
				|| !(servletResponse instanceof HttpServletResponse response)) {
			chain.doFilter(servletRequest, servletResponse);
			return;
		}
		switch (request.getDispatcherType()) {
			// An async dispatch has work to finish only if the first dispatch left some.
			case ASYNC -> {
				if (request.getAttribute(IdempotentExchange.ATTRIBUTE) instanceof IdempotentExchange exchange) {
					exchange.asyncDispatched();
					handled(request, response, chain);
				}
				else {
					chain.doFilter(request, response);
				}
			}
			// And an error page only if one awaits it, never to prepare a request of its
			// own. Tomcat keeps the type of the error dispatch for a forward from its
			// page.
			case ERROR -> {
				if (request.getAttribute(HANDLING) != null) {
					chain.doFilter(request, response);
					forwardEnded(request, response);
				}
				else if (request.getAttribute(IdempotentExchange.ATTRIBUTE) instanceof IdempotentExchange exchange
						&& exchange.isAwaitingErrorPage()) {
					handled(request, response, chain);
				}
				else {
					chain.doFilter(request, response);
				}
			}
			// A forward or include from a request this filter is handling passes on.
			default -> {
				if (request.getAttribute(HANDLING) != null) {
					chain.doFilter(request, response);
					if (request.getDispatcherType() == DispatcherType.FORWARD) {
						forwardEnded(request, response);
					}
				}
				else if (this.matcher.mayReachIdempotentHandler(request)) {
					handled(request, response, chain);
				}
				else {
					chain.doFilter(request, response);
				}
			}
		}
	}

	private void handled(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		request.setAttribute(HANDLING, Boolean.TRUE);
		try {
			doFilterInternal(request, response, chain);
		}
		finally {
			request.removeAttribute(HANDLING);
		}
	}

	private void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		if (request.getDispatcherType() == DispatcherType.ERROR) {
			captureErrorPage(request, response, chain);
			return;
		}
		// The async dispatch carries the wrappers of the first one.
		SwappableRequest swappable = (request.getDispatcherType() == DispatcherType.ASYNC) ? null
				: new SwappableRequest(request, this.maxBodySize);
		try {
			chain.doFilter((swappable != null) ? swappable : request,
					(swappable != null) ? new SwappableResponse(response) : response);
		}
		catch (IOException | ServletException | RuntimeException | Error ex) {
			finish(request, swappable, ex);
			throw ex;
		}
		finish(request, swappable, null);
	}

	// The exchange is found through the wrapper too: the DispatcherServlet removes the
	// attributes an include added, the exchange's among them, before the include returns.
	private static void finish(HttpServletRequest request, @Nullable SwappableRequest swappable,
			@Nullable Throwable failure) throws IOException {
		IdempotentExchange exchange = (swappable != null) ? swappable.exchange : null;
		if (request.getAttribute(IdempotentExchange.ATTRIBUTE) instanceof IdempotentExchange found) {
			exchange = found;
		}
		if (exchange == null
				|| (failure == null && request.isAsyncStarted() && !exchange.isAsyncStartedAfterTheAnswer())) {
			return;
		}
		// Not from an include, whose exchange the DispatcherServlet has taken off the
		// request: neither the error page nor the listener could find it there. An async
		// dispatch has no swappable of its own.
		if (failure == null && (swappable == null || swappable.dispatcherType() != DispatcherType.INCLUDE)
				&& IdempotencyRequestListener.awaitErrorPage(request, exchange, swappable == null)) {
			return;
		}
		request.removeAttribute(IdempotentExchange.ATTRIBUTE);
		exchange.finish(failure);
	}

	// Tomcat 11 finishes the response as a forward returns, before this filter could send
	// what it held back on the way out of the request that forwarded. So a forward from
	// a request this filter prepared, or from the error page it captures, is finished
	// at its end, once the forward's filters wrote their part, when what is written to
	// the response it was handed reaches the capture at once: no wrapper of the request
	// that forwarded may still hold part of the body.
	private static void forwardEnded(HttpServletRequest request, HttpServletResponse response) throws IOException {
		if (request.isAsyncStarted()) {
			return;
		}
		if (request.getAttribute(ERROR_PAGE) instanceof ErrorPage page) {
			if (writesReach(response, page.response())) {
				request.removeAttribute(ERROR_PAGE);
				page.exchange().finish(page.response(), null);
			}
			return;
		}
		if (!(request.getAttribute(IdempotentExchange.ATTRIBUTE) instanceof IdempotentExchange exchange)
				|| !writesReach(response, exchange.response())) {
			return;
		}
		SwappableRequest swappable = WebUtils.getNativeRequest(request, SwappableRequest.class);
		if (swappable == null || swappable.exchange != exchange || swappable.dispatcherType() == DispatcherType.INCLUDE
				|| exchange.hasAnswerForErrorPage()) {
			return;
		}
		request.removeAttribute(IdempotentExchange.ATTRIBUTE);
		swappable.exchange = null;
		exchange.finish(null);
	}

	// Every wrapper above the capture passes writes on as they come, as Spring Security's
	// firewall, which wraps the response on each dispatch, does.
	private static boolean writesReach(ServletResponse response, CapturedResponse capture) {
		ServletResponse current = response;
		while (current != capture) {
			if (!(current instanceof ServletResponseWrapper wrapper) || !PASSES_WRITES_ON.get(wrapper.getClass())) {
				return false;
			}
			current = wrapper.getResponse();
		}
		return true;
	}

	// The answer is stored as the error page renders it, held back until then like any.
	// The exchange is hidden from the dispatch, which prepares nothing of its own: an
	// idempotent handler that serves as the error page is refused, as without the filter.
	// A page rendered through a forward is stored as the forward ends.
	private static void captureErrorPage(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		IdempotentExchange exchange = (IdempotentExchange) request.getAttribute(IdempotentExchange.ATTRIBUTE);
		request.removeAttribute(IdempotentExchange.ATTRIBUTE);
		ErrorPage page = new ErrorPage(exchange, exchange.errorPageStarting(response));
		request.setAttribute(ERROR_PAGE, page);
		try {
			chain.doFilter(request, page.response());
		}
		catch (IOException | ServletException | RuntimeException | Error ex) {
			if (pageUnfinished(request, page)) {
				exchange.finish(page.response(), ex);
			}
			throw ex;
		}
		if (pageUnfinished(request, page)) {
			exchange.finish(page.response(), null);
		}
	}

	private static boolean pageUnfinished(HttpServletRequest request, ErrorPage page) {
		boolean unfinished = request.getAttribute(ERROR_PAGE) == page;
		request.removeAttribute(ERROR_PAGE);
		return unfinished;
	}

	// The error page of a request, and the exchange that stores it.
	private record ErrorPage(IdempotentExchange exchange, CapturedResponse response) {
	}

	/**
	 * The request wrapper the interceptor can swap a buffered body into.
	 */
	static final class SwappableRequest extends HttpServletRequestWrapper {

		private static final Log logger = LogFactory.getLog(IdempotencyFilter.class);

		private static final byte[] NOTHING = {};

		private static final Object NOT_YET = new Object();

		// Set by the interceptor on the dispatching thread, read by the filter on it.
		@Nullable IdempotentExchange exchange;

		// Kept as it was when the filter ran: a container may report an include's type
		// for the request it includes from.
		private final DispatcherType dispatcherType;

		private final long maxBodySize;

		// The handler the starter's interceptor last saw chosen, NOT_YET before it
		// ran. Reads until it sees the handler now chosen are recorded: those of later
		// filters' wrappers, or of the application's interceptors that run first, on
		// a forward too.
		private @Nullable Object intercepted = NOT_YET;

		// The body as read before the starter's interceptor ran, if it was.
		private @Nullable RecordingBodyStream readEarly;

		// Made once, as the container's: a reader reads ahead of what it hands out.
		private @Nullable BufferedReader reader;

		SwappableRequest(HttpServletRequest request, long maxBodySize) {
			super(request);
			this.dispatcherType = request.getDispatcherType();
			this.maxBodySize = maxBodySize;
		}

		DispatcherType dispatcherType() {
			return this.dispatcherType;
		}

		/**
		 * What was read of the body before the starter's interceptor ran, or {@code null}
		 * when that is more than {@code idempotency.max-body-size}.
		 */
		byte @Nullable [] bodyReadEarly() {
			return (this.readEarly != null) ? this.readEarly.recorded() : NOTHING;
		}

		/**
		 * The stream the rest of the body is read from: the one the early reads came
		 * from, as the stream beneath may be made anew on each call.
		 */
		InputStream restOfBody() throws IOException {
			return (this.readEarly != null) ? this.readEarly.source() : getRequest().getInputStream();
		}

		/**
		 * Hands the buffered body to the handler, and to the wrappers that read it early.
		 */
		void buffer(byte[] body) {
			setRequest(new BufferedBodyRequest((HttpServletRequest) getRequest(), body));
			if (this.readEarly != null) {
				this.readEarly.goOnFrom(body);
			}
		}

		// Until the starter's interceptor runs, the body is read by filters, or by the
		// application's interceptors that run first, and what they read is recorded;
		// after, by the handler or on its behalf, from the buffered body if the handler
		// is idempotent. The stream and the reader exclude each other, as
		// the container's do: the reader reads ahead of what it hands out.
		@Override
		public ServletInputStream getInputStream() throws IOException {
			Assert.state(this.reader == null, "getReader() has already been called for this request");
			return body();
		}

		@Override
		public BufferedReader getReader() throws IOException {
			if (this.reader == null) {
				if (this.readEarly == null && interceptorSawTheHandler()) {
					return super.getReader();
				}
				Assert.state(this.readEarly == null, "getInputStream() has already been called for this request");
				this.reader = BufferedBodyRequest.reader(body(), getCharacterEncoding());
			}
			return this.reader;
		}

		private ServletInputStream body() throws IOException {
			if (this.readEarly == null && !interceptorSawTheHandler()) {
				this.readEarly = new RecordingBodyStream(getRequest().getInputStream(), this.maxBodySize);
			}
			return (this.readEarly != null) ? this.readEarly : super.getInputStream();
		}

		/**
		 * The starter's interceptor has seen the request: what is read from now on is the
		 * chosen handler's, from the buffered body if the handler is idempotent.
		 */
		void interceptorRan() {
			this.intercepted = getAttribute(HandlerMapping.BEST_MATCHING_HANDLER_ATTRIBUTE);
		}

		boolean interceptorSawTheHandler() {
			return this.intercepted != NOT_YET
					&& getAttribute(HandlerMapping.BEST_MATCHING_HANDLER_ATTRIBUTE) == this.intercepted;
		}

		@Override
		public AsyncContext startAsync() {
			asyncStarting();
			return super.startAsync();
		}

		@Override
		public AsyncContext startAsync(ServletRequest request, ServletResponse response) {
			asyncStarting();
			return super.startAsync(request, response);
		}

		// Spring MVC's async processing, for a Callable or a DeferredResult a
		// handler returns, ends in a dispatch or a callback the exchange follows.
		// Async processing that anything else starts on a request holding its claim
		// (the handler, a filter, an interceptor) ends where the exchange cannot hear
		// it: the body held back would never be sent, and the key would stay claimed
		// until its renewals ran out, then run again. Refused like a failure (never
		// stored, the key released) unless the handler's answer is already whole.
		private void asyncStarting() {
			IdempotentExchange exchange = this.exchange;
			if (exchange == null || !exchange.isAsyncStartUnannounced()) {
				return;
			}
			// Started by a filter once the handler's answer was whole: finished as the
			// chain returns here, once the filters between wrote their part, as any.
			if (exchange.isDispatchEnded() && !exchange.hasAnswerForErrorPage()) {
				exchange.asyncStartedAfterTheAnswer();
				return;
			}
			exchange.interrupted();
			logger.error(exchange.operation().name() + " is @Idempotent but its request started async"
					+ " processing outside Spring MVC's (request.startAsync()), whose end idempotency cannot"
					+ " follow: return a Callable, DeferredResult or CompletableFuture instead");
			throw new IdempotencyProblemException(IdempotencyProblem.NOT_PROTECTED,
					"This operation cannot be processed safely: idempotency is not in effect for it.", null);
		}

	}

	/**
	 * The response wrapper the interceptor can swap a capturing delegate into.
	 */
	static final class SwappableResponse extends HttpServletResponseWrapper {

		SwappableResponse(HttpServletResponse response) {
			super(response);
		}

	}

}
