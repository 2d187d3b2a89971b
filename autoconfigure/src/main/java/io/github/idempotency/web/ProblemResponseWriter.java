package io.github.idempotency.web;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.server.ServletServerHttpResponse;

/**
 * Writes the starter's errors as {@code application/problem+json}, through the
 * application's own message converters so that its JSON settings apply. Thread-safe.
 *
 * @since 0.1.0
 */
public class ProblemResponseWriter {

	private final Supplier<List<HttpMessageConverter<?>>> converters;

	/**
	 * @param converters supplies the message converters; called on each write, so it may
	 * resolve them lazily
	 */
	public ProblemResponseWriter(Supplier<List<HttpMessageConverter<?>>> converters) {
		this.converters = converters;
	}

	/**
	 * Writes a problem as the whole response.
	 * @param exception the problem to write
	 * @param request the request it answers
	 * @param response the response to write to
	 * @throws IOException if writing fails
	 */
	@SuppressWarnings("unchecked")
	public void write(IdempotencyProblemException exception, HttpServletRequest request, HttpServletResponse response)
			throws IOException {
		IdempotencyProblem kind = exception.getProblem();
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(kind.status(), exception.getMessage());
		problem.setType(URI.create(kind.type()));
		problem.setTitle(kind.title());
		URI instance = instance(request);
		if (instance != null) {
			problem.setInstance(instance);
		}
		problem.setProperty("code", kind.code());
		Duration retryAfter = exception.getRetryAfter();
		if (retryAfter != null) {
			response.setHeader(HttpHeaders.RETRY_AFTER, String.valueOf(retryAfterSeconds(retryAfter)));
		}
		ServletServerHttpResponse output = new ServletServerHttpResponse(response);
		output.setStatusCode(kind.status());
		for (HttpMessageConverter<?> converter : this.converters.get()) {
			if (converter.canWrite(ProblemDetail.class, MediaType.APPLICATION_PROBLEM_JSON)) {
				((HttpMessageConverter<Object>) converter).write(problem, MediaType.APPLICATION_PROBLEM_JSON, output);
				return;
			}
		}
		output.getHeaders().setContentType(new MediaType(MediaType.TEXT_PLAIN, StandardCharsets.UTF_8));
		output.getBody().write(String.valueOf(exception.getMessage()).getBytes(StandardCharsets.UTF_8));
		output.flush();
	}

	// The request URI as the client sent it, which a container may accept with characters
	// a URI cannot hold (Tomcat's relaxed-path-chars): the problem then names no instance
	// rather than fail to be written.
	private static @Nullable URI instance(HttpServletRequest request) {
		try {
			return new URI(request.getRequestURI());
		}
		catch (URISyntaxException ex) {
			return null;
		}
	}

	// Whole seconds, rounded up: a client told 0 would retry at once, which is what
	// Retry-After is meant to prevent.
	static long retryAfterSeconds(Duration delay) {
		long seconds = delay.toSeconds() + ((delay.toNanosPart() > 0) ? 1 : 0);
		return Math.max(1, seconds);
	}

}
