package io.github.idempotency.web;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRequest;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;

/**
 * Tells {@link IdempotencyRequestListener} of the end of a request on Jetty 12, where a
 * request listener would hear of it too early: Jetty calls request listeners at the end
 * of every dispatch, so the end of the handler's dispatch comes before the error page's,
 * and a listener would release a claim whose page was about to be stored.
 *
 * <p>
 * Only a request whose error page is awaited is watched: its response's stream, in
 * Jetty's core API (the same on Jetty 12.0 and 12.1), tells when the last of the response
 * is sent. That is where the claim is released if no error page has been stored by then,
 * so before the client has the answer, as on Tomcat. The servlet request leads to Jetty's
 * core request through a static lookup of Jetty's servlet layer, found at startup from
 * the servlet context's type: {@code ee10} under Spring Boot 3.5, {@code ee11} under
 * Spring Boot 4.
 */
final class JettyRequestEnd {

	// A constant, so that reading it loads nothing of Jetty's.
	static final String ATTRIBUTE = "io.github.idempotency.web.JettyRequestEnd";

	// (ServletRequest) -> Request
	private final MethodHandle coreRequest;

	private JettyRequestEnd(MethodHandle coreRequest) {
		this.coreRequest = coreRequest;
	}

	/**
	 * The hook for an application that Jetty's servlet layer serves, or {@code null} for
	 * any other container, or a Jetty whose servlet layer this does not recognize.
	 */
	static @Nullable JettyRequestEnd forContext(ServletContext context) {
		// Jetty's web application context, which Spring Boot uses, extends the servlet
		// layer's.
		for (Class<?> type = context.getClass(); type != null; type = type.getSuperclass()) {
			if (type.getPackageName().startsWith("org.eclipse.jetty.")) {
				MethodHandle lookup = coreRequestLookup(type.getPackageName(), type.getClassLoader());
				if (lookup != null) {
					return new JettyRequestEnd(lookup);
				}
			}
		}
		return null;
	}

	private static @Nullable MethodHandle coreRequestLookup(String servletLayer, ClassLoader classLoader) {
		try {
			Class<?> requestType = Class.forName(servletLayer + ".ServletContextRequest", false, classLoader);
			// A web application that brings its own copy of Jetty's core sees another
			// Request than the server's.
			if (!Request.class.isAssignableFrom(requestType)) {
				return null;
			}
			return MethodHandles.publicLookup()
				.findStatic(requestType, "getServletContextRequest",
						MethodType.methodType(requestType, ServletRequest.class))
				.asType(MethodType.methodType(Request.class, ServletRequest.class));
		}
		catch (ReflectiveOperationException ex) {
			return null;
		}
	}

	/**
	 * Keeps the exchange's claim open for the error page, which has an answer to store,
	 * and releases it when the response ends without the page stored.
	 * @return whether the error page is awaited
	 */
	boolean awaitErrorPage(ServletRequest request, IdempotentExchange exchange) {
		Request core = coreRequest(request);
		if (core == null) {
			return false;
		}
		exchange.keepOpenForErrorPage();
		try {
			core.addHttpStreamWrapper((stream) -> new ResponseEnd(stream, exchange));
		}
		catch (RuntimeException ex) {
			// The response has already ended: there is no page left to wait for.
			IdempotencyRequestListener.requestEnded(exchange);
		}
		return true;
	}

	private @Nullable Request coreRequest(ServletRequest request) {
		try {
			return (Request) this.coreRequest.invokeExact(request);
		}
		catch (Error ex) {
			throw ex;
		}
		// Jetty's lookup throws for a request that is not Jetty's: one of MockMvc's, say,
		// built on the context of a started server.
		catch (Throwable ex) {
			return null;
		}
	}

	/**
	 * The response's stream of a request whose error page is awaited.
	 */
	private static final class ResponseEnd extends HttpStream.Wrapper {

		private final AtomicReference<@Nullable IdempotentExchange> exchange;

		ResponseEnd(HttpStream stream, IdempotentExchange exchange) {
			super(stream);
			this.exchange = new AtomicReference<>(exchange);
		}

		@Override
		public void send(MetaData.Request request, MetaData.@Nullable Response response, boolean last,
				@Nullable ByteBuffer content, Callback callback) {
			if (last) {
				ended();
			}
			super.send(request, response, last, content, callback);
		}

		// A response that ends without its last write: the connection failed, say.
		@Override
		public void succeeded() {
			ended();
			super.succeeded();
		}

		@Override
		public void failed(Throwable failure) {
			ended();
			super.failed(failure);
		}

		private void ended() {
			IdempotentExchange exchange = this.exchange.getAndSet(null);
			if (exchange != null) {
				IdempotencyRequestListener.requestEnded(exchange);
			}
		}

	}

}
