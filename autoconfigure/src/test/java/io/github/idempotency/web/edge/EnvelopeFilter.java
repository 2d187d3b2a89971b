package io.github.idempotency.web.edge;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.mock.web.DelegatingServletInputStream;
import org.springframework.stereotype.Component;
import org.springframework.util.FileCopyUtils;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * A filter that hands the handler another body than the client sent, and leaves the
 * {@code Content-Length} it came with, as one that decrypts, unwraps or inflates a
 * payload may. {@code X-Envelope: open} takes off the envelope the body came in (a
 * shorter body), {@code open-text} too, reading the body as text; {@code inflate} hands
 * on the body twice over (a longer one). It reads the body before the handler is chosen.
 */
@Component
public class EnvelopeFilter extends OncePerRequestFilter {

	private static final byte[] ENVELOPE = "envelope:".getBytes(StandardCharsets.US_ASCII);

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return request.getHeader("X-Envelope") == null;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		String envelope = request.getHeader("X-Envelope");
		byte[] sent = envelope.equals("open-text")
				? FileCopyUtils.copyToString(request.getReader()).getBytes(StandardCharsets.US_ASCII)
				: request.getInputStream().readAllBytes();
		byte[] inner = "inflate".equals(envelope) ? twice(sent)
				: Arrays.copyOfRange(sent, Math.min(ENVELOPE.length, sent.length), sent.length);
		chain.doFilter(new HttpServletRequestWrapper(request) {

			@Override
			public ServletInputStream getInputStream() {
				return new DelegatingServletInputStream(new ByteArrayInputStream(inner));
			}

		}, response);
	}

	private static byte[] twice(byte[] body) {
		byte[] twice = Arrays.copyOf(body, body.length * 2);
		System.arraycopy(body, 0, twice, body.length, body.length);
		return twice;
	}

}
