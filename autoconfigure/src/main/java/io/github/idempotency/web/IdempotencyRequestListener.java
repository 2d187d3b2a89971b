package io.github.idempotency.web;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestEvent;
import jakarta.servlet.ServletRequestListener;

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
 * container may also end a request before its error page: Tomcat does after an async
 * dispatch. The claim is then released first, and the page goes out unstored.
 *
 * <p>
 * The filter waits for an error page only on requests this listener heard begin, and
 * releases the claim at once on any other: those of a container it is not registered
 * with, or of {@code MockMvc}, which calls no listener and renders no error page.
 *
 * @since 0.1.0
 */
public final class IdempotencyRequestListener implements ServletRequestListener {

	private static final String HEARD = IdempotencyRequestListener.class.getName() + ".HEARD";

	/**
	 * Whether the container tells this listener of the end of a request.
	 * @param request the request
	 * @return {@code true} if {@link #requestDestroyed} will be called for it
	 */
	static boolean hearsTheEndOf(ServletRequest request) {
		return request.getAttribute(HEARD) != null;
	}

	@Override
	public void requestInitialized(ServletRequestEvent event) {
		event.getServletRequest().setAttribute(HEARD, Boolean.TRUE);
	}

	@Override
	public void requestDestroyed(ServletRequestEvent event) {
		ServletRequest request = event.getServletRequest();
		if (request.getAttribute(IdempotentExchange.ATTRIBUTE) instanceof IdempotentExchange exchange
				&& exchange.isAwaitingErrorPage()) {
			request.removeAttribute(IdempotentExchange.ATTRIBUTE);
			exchange.errorPageMissed();
		}
	}

}
