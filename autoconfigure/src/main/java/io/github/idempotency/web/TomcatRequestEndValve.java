package io.github.idempotency.web;

import java.io.IOException;

import jakarta.servlet.ServletException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * Tells {@link IdempotencyRequestListener} of the beginning and end of each request on an
 * embedded Tomcat, around the host, whose valve renders error pages. Registering the
 * listener itself would cost every request of the application more than the listener
 * does: once any request listener is registered, Tomcat builds an event and copies its
 * list of listeners on every {@code setAttribute} and {@code removeAttribute} of a
 * request, and Spring MVC calls them a dozen times per request.
 */
final class TomcatRequestEndValve extends ValveBase {

	TomcatRequestEndValve() {
		// A valve that does not support async requests would turn them off for all.
		super(true);
	}

	@Override
	public void invoke(Request request, Response response) throws IOException, ServletException {
		// Like the request listener, which Tomcat calls only around a request's first
		// dispatch, and at its end only if that dispatch did not start async work. The
		// filter does not wait for the error page of an async dispatch.
		if (request.isAsync()) {
			getNext().invoke(request, response);
			return;
		}
		IdempotencyRequestListener.requestBegan(request);
		try {
			getNext().invoke(request, response);
		}
		finally {
			if (!request.isAsync()) {
				IdempotencyRequestListener.requestEnded(request);
			}
		}
	}

}
