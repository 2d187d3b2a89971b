package io.github.idempotency.web.edge;

import java.io.IOException;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Stands for a container that ends a body early, as Tomcat does once an HTTP/2 client has
 * reset the stream: the request declares {@code X-Overstated-By} bytes more than its
 * stream, passed on untouched, gives. Ordered before the starter's filter, which reads
 * the body beneath the wrappers made after it.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class OverstatedLengthFilter extends OncePerRequestFilter {

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return request.getHeader("X-Overstated-By") == null;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		long declared = request.getContentLengthLong() + Long.parseLong(request.getHeader("X-Overstated-By"));
		chain.doFilter(new HttpServletRequestWrapper(request) {

			@Override
			public long getContentLengthLong() {
				return declared;
			}

			@Override
			public int getContentLength() {
				return (int) declared;
			}

		}, response);
	}

}
