package io.github.idempotency.web.edge;

import java.io.IOException;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Reads the first line of a body sent with {@code X-First-Line} through the request's
 * reader, as a filter that looks for a preamble may, keeps it in a request attribute, and
 * passes the request on unwrapped: the handler reads the rest through the same reader.
 * With {@code X-First-Line: on-forward} it reads only once the request is forwarded, as a
 * filter mapped to forwards does.
 */
@Component
public class FirstLineFilter extends OncePerRequestFilter {

	/**
	 * The request attribute holding the first line.
	 */
	public static final String FIRST_LINE = "io.github.idempotency.web.edge.FirstLineFilter.firstLine";

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		String when = request.getHeader("X-First-Line");
		return when == null || when.equals("on-forward") != (request.getDispatcherType() == DispatcherType.FORWARD);
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		request.setAttribute(FIRST_LINE, request.getReader().readLine());
		chain.doFilter(request, response);
	}

}
