package io.github.idempotency.web.edge;

import java.io.IOException;
import java.util.zip.GZIPInputStream;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.mock.web.DelegatingServletInputStream;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Decompresses a body sent with {@code X-Request-Encoding: gzip} as it is read, making a
 * new stream on each call, as many decoding wrappers do. Ordered before the starter's
 * filter (see "Request wrappers" in docs/behaviour.md for one ordered after it).
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class GzipRequestFilter extends OncePerRequestFilter {

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return !"gzip".equals(request.getHeader("X-Request-Encoding"));
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		chain.doFilter(new HttpServletRequestWrapper(request) {

			@Override
			public ServletInputStream getInputStream() throws IOException {
				return new DelegatingServletInputStream(new GZIPInputStream(super.getInputStream()));
			}

		}, response);
	}

}
