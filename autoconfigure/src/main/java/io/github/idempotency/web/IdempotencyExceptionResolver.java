package io.github.idempotency.web;

import java.io.IOException;
import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;

import io.github.idempotency.StoredResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.util.StringUtils;
import org.springframework.web.context.request.async.AsyncRequestNotUsableException;
import org.springframework.web.context.request.async.AsyncRequestTimeoutException;
import org.springframework.web.servlet.HandlerExceptionResolver;
import org.springframework.web.servlet.ModelAndView;
import org.springframework.web.util.DisconnectedClientHelper;
import org.springframework.web.util.WebUtils;

/**
 * Renders the answers the starter gives instead of running a handler: replays of stored
 * responses and problem responses. Ordered first, so that an application's catch-all
 * {@code @ExceptionHandler} never turns them into something else, and so that it sees
 * every exception of an idempotent request: one that means the response was cut short (an
 * async timeout, a client that went away, any exception once the body was committed)
 * keeps that response from being stored.
 *
 * @since 0.1.0
 */
public class IdempotencyExceptionResolver implements HandlerExceptionResolver, Ordered {

	private static final Log logger = LogFactory.getLog(IdempotencyExceptionResolver.class);

	private final ProblemResponseWriter problemWriter;

	private final String replayedHeaderName;

	private final Set<String> replayedHeaders = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);

	/**
	 * @param problemWriter writes problem responses
	 * @param replayedHeaderName the header that marks a replay, sent with the value
	 * {@code true}
	 * @param replayedHeaders the headers a replay may send: a stored header of any other
	 * name is left out, whoever wrote the record
	 */
	public IdempotencyExceptionResolver(ProblemResponseWriter problemWriter, String replayedHeaderName,
			Collection<String> replayedHeaders) {
		this.problemWriter = problemWriter;
		this.replayedHeaderName = replayedHeaderName;
		this.replayedHeaders.addAll(replayedHeaders);
	}

	@Override
	public @Nullable ModelAndView resolveException(HttpServletRequest request, HttpServletResponse response,
			@Nullable Object handler, Exception ex) {
		if (!(ex instanceof ReplayException) && !(ex instanceof IdempotencyProblemException)
				&& request.getAttribute(IdempotentExchange.ATTRIBUTE) instanceof IdempotentExchange exchange
				&& cutsResponseShort(ex, response)) {
			exchange.interrupted();
		}
		try {
			if (ex instanceof ReplayException replay) {
				replay(replay.getResponse(), response);
				return new ModelAndView();
			}
			if (ex instanceof IdempotencyProblemException problem) {
				this.problemWriter.write(problem, request, response);
				return new ModelAndView();
			}
		}
		catch (IOException failure) {
			logger.debug("Could not write the idempotency response; the client has probably gone", failure);
			return new ModelAndView();
		}
		return null;
	}

	// Spring MVC answers these without an error status when the response is already
	// committed, which would leave a cut-short body looking like a success.
	private static boolean cutsResponseShort(Exception ex, HttpServletResponse response) {
		if (response.isCommitted() || ex instanceof AsyncRequestTimeoutException
				|| ex instanceof AsyncRequestNotUsableException) {
			return true;
		}
		// A client that went away cuts short only what was sent to it. While the body is
		// held back, an exception that looks like a lost connection (an EOFException, a
		// "connection reset by peer") is a downstream service's, after the handler's work
		// began: the answer an exception handler makes of it is kept like any other, and
		// a retry does not run that work again.
		CapturedResponse captured = WebUtils.getNativeResponse(response, CapturedResponse.class);
		return (captured == null || captured.isPassing()) && DisconnectedClientHelper.isClientDisconnectedException(ex);
	}

	private void replay(StoredResponse stored, HttpServletResponse response) throws IOException {
		// The replay passes through the application's filters like any response, but not
		// into the capture: nothing is stored from a replay, so that copy would be
		// wasted.
		CapturedResponse captured = WebUtils.getNativeResponse(response, CapturedResponse.class);
		if (captured != null) {
			captured.passThrough();
		}
		response.setStatus(stored.status());
		// Set, not add: a header a filter already wrote (Cache-Control from Spring
		// Security, say) is replaced by what the client received the first time, instead
		// of appearing twice.
		stored.headers().forEach((name, values) -> {
			if (!this.replayedHeaders.contains(name) || values.isEmpty()) {
				return;
			}
			response.setHeader(name, values.get(0));
			for (int i = 1; i < values.size(); i++) {
				response.addHeader(name, values.get(i));
			}
		});
		response.setHeader(this.replayedHeaderName, "true");
		exposeToCrossOriginCaller(response);
		response.setContentLength(stored.body().length);
		response.getOutputStream().write(stored.body());
	}

	// A browser shows a script of another origin only the response headers CORS exposes,
	// which Spring MVC set before the handler was called.
	private void exposeToCrossOriginCaller(HttpServletResponse response) {
		if (response.getHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN) == null) {
			return;
		}
		boolean credentials = "true".equals(response.getHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_CREDENTIALS));
		for (String exposed : response.getHeaders(HttpHeaders.ACCESS_CONTROL_EXPOSE_HEADERS)) {
			for (String name : StringUtils.commaDelimitedListToStringArray(exposed)) {
				// A wildcard is no wildcard for a request with credentials.
				if (name.trim().equalsIgnoreCase(this.replayedHeaderName)
						|| (name.trim().equals("*") && !credentials)) {
					return;
				}
			}
		}
		response.addHeader(HttpHeaders.ACCESS_CONTROL_EXPOSE_HEADERS, this.replayedHeaderName);
	}

	@Override
	public int getOrder() {
		return Ordered.HIGHEST_PRECEDENCE;
	}

}
