package io.github.idempotency.web;

import java.io.IOException;
import java.util.Set;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;

import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Gives {@link IdempotentHandlerInterceptor} a place to buffer the request body and
 * capture the response of requests that turn out to reach an idempotent handler.
 *
 * <p>
 * Which handler a request reaches is known only inside the {@code DispatcherServlet},
 * after this filter has run. So for every request with a covered method the filter passes
 * down wrappers that do nothing by themselves; the interceptor swaps buffering and
 * capturing delegates into them once it sees an idempotent handler. Every other request,
 * including streaming responses and uploads to ordinary endpoints, is neither buffered
 * nor copied.
 *
 * @since 0.1.0
 */
public class IdempotencyFilter extends OncePerRequestFilter {

	private final Set<String> methods;

	/**
	 * @param methods the request methods that may be idempotent, upper case
	 */
	public IdempotencyFilter(Set<String> methods) {
		this.methods = Set.copyOf(methods);
	}

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return !this.methods.contains(request.getMethod());
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		chain.doFilter(new SwappableRequest(request), new SwappableResponse(response));
	}

	/**
	 * The request wrapper the interceptor can swap a buffered body into.
	 */
	static final class SwappableRequest extends HttpServletRequestWrapper {

		SwappableRequest(HttpServletRequest request) {
			super(request);
		}

	}

	/**
	 * The response wrapper the interceptor can swap a capturing delegate into.
	 */
	static final class SwappableResponse extends HttpServletResponseWrapper {

		SwappableResponse(HttpServletResponse response) {
			super(response);
		}

	}

}
