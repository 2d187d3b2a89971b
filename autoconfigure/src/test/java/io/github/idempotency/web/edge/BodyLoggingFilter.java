package io.github.idempotency.web.edge;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.util.ContentCachingResponseWrapper;

/**
 * The usual body-logging filter: no {@code @Order}, so it runs inside the starter's
 * filter, and it buffers the whole response to log it before copying it back.
 */
@Component
public class BodyLoggingFilter extends OncePerRequestFilter {

	private final List<String> logged = new CopyOnWriteArrayList<>();

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return !request.getRequestURI().startsWith("/edge/payments");
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		ContentCachingResponseWrapper buffered = new ContentCachingResponseWrapper(response);
		try {
			chain.doFilter(request, buffered);
		}
		finally {
			this.logged.add(new String(buffered.getContentAsByteArray(), buffered.getCharacterEncoding()));
			buffered.copyBodyToResponse();
		}
	}

	public List<String> logged() {
		return this.logged;
	}

}
