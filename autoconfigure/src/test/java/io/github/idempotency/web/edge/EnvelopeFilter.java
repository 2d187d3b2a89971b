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
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * A filter that hands the handler a shorter body than the client sent, and leaves the
 * {@code Content-Length} it came with, as one that decrypts or unwraps a payload may.
 * Applied to requests with an {@code X-Envelope} header.
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
		byte[] sent = request.getInputStream().readAllBytes();
		byte[] inner = Arrays.copyOfRange(sent, Math.min(ENVELOPE.length, sent.length), sent.length);
		chain.doFilter(new HttpServletRequestWrapper(request) {

			@Override
			public ServletInputStream getInputStream() {
				return new DelegatingServletInputStream(new ByteArrayInputStream(inner));
			}

		}, response);
	}

}
