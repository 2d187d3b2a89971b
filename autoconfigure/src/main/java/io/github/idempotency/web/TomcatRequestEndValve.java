package io.github.idempotency.web;

import java.io.IOException;

import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * Tells {@link IdempotencyRequestListener} of the beginning and end of each request on an
 * embedded Tomcat, from the host's pipeline, around the valve that renders error pages
 * and fires request listeners, so at the moment a request listener would hear of the
 * request. Registering the listener itself would cost every request of the application
 * more than the listener does: once any request listener is registered, Tomcat builds an
 * event and copies its list of listeners on every {@code setAttribute} and
 * {@code removeAttribute} of a request, and Spring MVC calls them a dozen times per
 * request.
 */
final class TomcatRequestEndValve extends ValveBase {

	TomcatRequestEndValve() {
		// A valve that does not support async requests would turn them off for all.
		super(true);
	}

	@Override
	public void invoke(Request request, Response response) throws IOException, ServletException {
		// A later dispatch of an async request passes here too, with the error page it
		// renders: Tomcat completes the request, and tells request listeners so, before
		// that page, but this valve hears of the dispatch after it.
		if (!request.isAsync()) {
			IdempotencyRequestListener.requestBeganHearingEachDispatch(request);
		}
		try {
			getNext().invoke(request, response);
		}
		finally {
			if (!request.isAsync()) {
				IdempotencyRequestListener.requestEnded(request);
			}
			else if (IdempotencyRequestListener.awaitsItsEnd(request)) {
				// Gone async after the handler, in the error page or a filter on the way
				// out: the request ends when that work completes.
				request.getAsyncContext().addListener(new AsyncEnd());
			}
		}
	}

	private static final class AsyncEnd implements AsyncListener {

		@Override
		public void onComplete(AsyncEvent event) {
			ServletRequest request = event.getAsyncContext().getRequest();
			IdempotencyRequestListener.requestEnded(request);
		}

		// Tomcat completes the request after these too.
		@Override
		public void onTimeout(AsyncEvent event) {
		}

		@Override
		public void onError(AsyncEvent event) {
		}

		@Override
		public void onStartAsync(AsyncEvent event) {
		}

	}

}
