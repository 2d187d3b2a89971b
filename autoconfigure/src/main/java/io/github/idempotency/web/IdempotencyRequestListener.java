package io.github.idempotency.web;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestEvent;
import jakarta.servlet.ServletRequestListener;
import jakarta.servlet.http.HttpServletRequest;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Lets {@link IdempotencyFilter} store an answer that the container renders as an error
 * page, and releases the claim of one whose error page never came.
 *
 * <p>
 * A handler that ends with {@code response.sendError(...)} (as Spring MVC sends a
 * {@code ResponseStatusException} under Spring Boot's defaults) leaves the body to the
 * container's error page, which is rendered in a dispatch of its own once the filter
 * chain has returned. The filter then keeps the claim open for that dispatch. Whether
 * such a dispatch follows is up to the container: there may be no error page for the
 * status, or the client may be gone. So the container tells this listener when every
 * request ends, after any error page, and the listener releases a claim still waiting: a
 * retry then runs the handler again, as it would after any answer that was not stored. A
 * container may end a request before its error page, as Tomcat does after an async
 * dispatch. So the filter waits for the error page of an async dispatch only where it
 * hears the end of that dispatch, after the page: through Tomcat's valve or Jetty's
 * response, not through this listener.
 *
 * <p>
 * The filter waits for an error page only on requests whose end it will hear of, and
 * releases the claim at once on any other: those of a container this listener is not
 * registered with, or of {@code MockMvc}, which calls no listener and renders no error
 * page. {@link RequestEndRegistration} registers it with every container but two: an
 * embedded Tomcat hears the end of a request through a valve instead, and Jetty, which
 * tells request listeners of the end of each dispatch, so before the error page's,
 * through its response ({@link JettyRequestEnd}).
 *
 * @since 0.1.0
 */
public final class IdempotencyRequestListener implements ServletRequestListener {

	private static final Log logger = LogFactory.getLog(IdempotencyRequestListener.class);

	private static final String HEARD = IdempotencyRequestListener.class.getName() + ".HEARD";

	private static final Object HEARD_EACH_DISPATCH = new Object();

	/**
	 * Keeps the exchange's claim open for the container's error page, when it has an
	 * answer to store there and the end of the request will be heard of, so that a page
	 * that never comes releases the claim.
	 * @param request the request, as the filter received it
	 * @param exchange the request's exchange
	 * @param asyncDispatch whether the answer comes from an async dispatch
	 * @return whether the error page is awaited
	 */
	static boolean awaitErrorPage(HttpServletRequest request, IdempotentExchange exchange, boolean asyncDispatch) {
		// Most answers end here, on any container.
		if (!exchange.hasAnswerForErrorPage()) {
			return false;
		}
		Object heard = request.getAttribute(HEARD);
		if (heard != null) {
			// A container may tell request listeners that an async request ended before
			// the error page of its last dispatch: Tomcat's valve hears that dispatch
			// end.
			if (asyncDispatch && heard != HEARD_EACH_DISPATCH) {
				return false;
			}
			exchange.keepOpenForErrorPage();
			return true;
		}
		// Set only where Jetty's classes are there to be loaded.
		Object jetty = request.getServletContext().getAttribute(JettyRequestEnd.ATTRIBUTE);
		return jetty != null && ((JettyRequestEnd) jetty).awaitErrorPage(request, exchange);
	}

	static void requestBegan(ServletRequest request) {
		request.setAttribute(HEARD, Boolean.TRUE);
	}

	/**
	 * The request began, and the end of each of its dispatches, async ones included, will
	 * be heard of after its error page.
	 */
	static void requestBeganHearingEachDispatch(ServletRequest request) {
		request.setAttribute(HEARD, HEARD_EACH_DISPATCH);
	}

	static boolean awaitsItsEnd(ServletRequest request) {
		return awaitingExchange(request) != null;
	}

	static void requestEnded(ServletRequest request) {
		IdempotentExchange exchange = awaitingExchange(request);
		if (exchange == null) {
			return;
		}
		request.removeAttribute(IdempotentExchange.ATTRIBUTE);
		requestEnded(exchange);
	}

	static void requestEnded(IdempotentExchange exchange) {
		if (!exchange.isAwaitingErrorPage()) {
			return;
		}
		try {
			exchange.errorPageMissed();
		}
		catch (RuntimeException ex) {
			// The response has gone; what failed is the store's to report, not the
			// container's to turn into a broken connection.
			logger.error("Could not release the idempotency key of a request whose error page never came", ex);
		}
	}

	private static @Nullable IdempotentExchange awaitingExchange(ServletRequest request) {
		return (request.getAttribute(IdempotentExchange.ATTRIBUTE) instanceof IdempotentExchange exchange
				&& exchange.isAwaitingErrorPage()) ? exchange : null;
	}

	@Override
	public void requestInitialized(ServletRequestEvent event) {
		requestBegan(event.getServletRequest());
	}

	@Override
	public void requestDestroyed(ServletRequestEvent event) {
		requestEnded(event.getServletRequest());
	}

}
