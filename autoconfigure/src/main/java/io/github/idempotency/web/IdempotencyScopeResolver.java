package io.github.idempotency.web;

import java.security.Principal;

import jakarta.servlet.http.HttpServletRequest;
import org.jspecify.annotations.Nullable;

import org.springframework.web.servlet.HandlerMapping;

/**
 * Decides whose operation a key belongs to. Two requests share a record only when they
 * have the same scope and the same key, so the scope is what keeps one caller from ever
 * seeing another's response.
 *
 * <p>
 * Declare a bean of this type to scope by something else, such as a tenant header.
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface IdempotencyScopeResolver {

	/**
	 * The scope of a request whose handler has been chosen.
	 * @param request the request
	 * @return the scope; any string, hashed before it reaches the store
	 */
	String resolve(HttpServletRequest request);

	/**
	 * The default scope: the request method, the route pattern and, when the request is
	 * authenticated, the principal's name. Spring Security exposes its authentication as
	 * the request's principal, so with it on the classpath the same key from two users
	 * names two operations.
	 * @return the default resolver
	 */
	static IdempotencyScopeResolver byRouteAndPrincipal() {
		return (request) -> {
			Principal principal = request.getUserPrincipal();
			return routeScope(
					request.getMethod() + ' ' + request.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE),
					(principal != null) ? principal.getName() : null);
		};
	}

	/**
	 * The scope {@link #byRouteAndPrincipal()} gives a request, from its parts; lets
	 * operators find a record.
	 * @param operation the request method and route pattern, such as
	 * {@code POST /payments}
	 * @param principal the authenticated principal's name, or {@code null} for an
	 * anonymous request
	 * @return the scope
	 */
	static String routeScope(String operation, @Nullable String principal) {
		// The separator cannot occur in a method or route, so no principal name can
		// imitate another scope.
		return (principal != null) ? operation + '\n' + principal : operation;
	}

}
