package io.github.idempotency.web;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import io.github.idempotency.interceptor.IdempotentOperation;
import io.github.idempotency.interceptor.IdempotentOperationSource;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.util.AntPathMatcher;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.RequestMappingInfoHandlerMapping;
import org.springframework.web.util.ServletRequestPathUtils;
import org.springframework.web.util.UrlPathHelper;

/**
 * Tells {@link IdempotencyFilter}, before the {@code DispatcherServlet} has chosen a
 * handler, whether a request may reach an idempotent one, so that every other request
 * passes the filter untouched.
 *
 * <p>
 * Once the singletons exist, it keeps the request mappings of the idempotent handler
 * methods of every {@link RequestMappingInfoHandlerMapping}. A request may reach an
 * idempotent handler if it matches the request methods and path patterns of one of them,
 * exactly as the handler mapping matches them, and, where the handler is covered by its
 * class's annotation, has a method that a class-level annotation covers. The other
 * conditions (headers, parameters, media types) and the choice between several matching
 * handlers are left to the mapping: a request may match here and then reach an ordinary
 * handler, which costs it only the filter's wrappers, but a request that matches none of
 * them cannot reach an idempotent handler through these mappings. Most requests to other
 * handlers are told apart before any path is parsed, by the literal start of the routes'
 * patterns, which their request URI does not begin with.
 *
 * <p>
 * A forwarded request is matched again on its forward, by the path it is forwarded to. A
 * handler mapped after startup ({@code registerMapping} at runtime), or in a handler
 * mapping of another application context, is not known here:
 * {@link IdempotentHandlerInterceptor} refuses requests that reach it with a 503 rather
 * than run them unprotected. Until the singletons exist every request matches.
 * Thread-safe.
 *
 * @since 0.1.0
 */
public class IdempotentRequestMatcher implements SmartInitializingSingleton {

	private final ListableBeanFactory beanFactory;

	private final IdempotentOperationSource operations;

	private final Set<String> classLevelMethods;

	// Null until the handler mappings are known.
	private volatile @Nullable Routes routes;

	/**
	 * @param beanFactory where the handler mappings are
	 * @param operations tells which handlers are idempotent
	 * @param classLevelMethods the request methods a class-level annotation covers, upper
	 * case
	 */
	public IdempotentRequestMatcher(ListableBeanFactory beanFactory, IdempotentOperationSource operations,
			Set<String> classLevelMethods) {
		this.beanFactory = beanFactory;
		this.operations = operations;
		this.classLevelMethods = Set.copyOf(classLevelMethods);
	}

	@Override
	public void afterSingletonsInstantiated() {
		List<Route> found = new ArrayList<>();
		Set<String> prefixes = new HashSet<>();
		Map<String, List<Mapped>> byPattern = new HashMap<>();
		for (RequestMappingInfoHandlerMapping mapping : this.beanFactory
			.getBeansOfType(RequestMappingInfoHandlerMapping.class, false, false)
			.values()) {
			UrlPathHelper urlPathHelper = (mapping.getPatternParser() != null) ? null : mapping.getUrlPathHelper();
			// Only pattern syntaxes known here have a literal start; any other matcher's
			// patterns may match anything.
			boolean knownSyntax = mapping.getPatternParser() != null
					|| mapping.getPathMatcher() instanceof AntPathMatcher;
			mapping.getHandlerMethods().forEach((info, handler) -> {
				IdempotentOperation operation = this.operations.getOperation(handler.getMethod(),
						handler.getBeanType());
				if (operation != null) {
					found.add(new Route(info, urlPathHelper,
							operation.declaredOnMethod() ? null : this.classLevelMethods));
					prefixes.addAll(knownSyntax ? literalPrefixes(info) : Set.of(""));
					Mapped mapped = new Mapped(handler.getMethod(), info);
					info.getPatternValues()
						.forEach((pattern) -> byPattern.computeIfAbsent(pattern, (key) -> new ArrayList<>())
							.add(mapped));
				}
			});
		}
		this.routes = new Routes(List.copyOf(found), requestMethods(found), List.copyOf(prefixes),
				Map.copyOf(sharedRoutes(byPattern)));
	}

	// Handlers mapped to one pattern with request methods in common, by what else of
	// their mappings tells them apart (headers, parameters, media types), or by the
	// handler method where that is all the same.
	private static Map<Method, String> sharedRoutes(Map<String, List<Mapped>> byPattern) {
		Map<Method, String> shared = new HashMap<>();
		for (List<Mapped> onPattern : byPattern.values()) {
			for (Mapped one : onPattern) {
				for (Mapped other : onPattern) {
					if (one.handler().equals(other.handler()) || !one.methodsOverlap(other)) {
						continue;
					}
					String conditions = one.conditions();
					shared.put(one.handler(), conditions.equals(other.conditions())
							? conditions + ' ' + one.handler().toGenericString() : conditions);
				}
			}
		}
		return shared;
	}

	/**
	 * What tells an idempotent handler's requests from those of another idempotent
	 * handler mapped to the same path pattern and request method: the other conditions of
	 * its mapping (headers, parameters, media types). Their requests have the same route,
	 * and so the same default scope.
	 * @param handler the handler method
	 * @return the conditions, or {@code null} where no other idempotent handler shares
	 * the handler's route
	 */
	public @Nullable String sharedRouteConditions(Method handler) {
		Routes routes = this.routes;
		return (routes != null) ? routes.sharedRoutes().get(handler) : null;
	}

	// The literal start of a route's path patterns, up to the first variable or wildcard,
	// without the slash before it: "/files/{*path}" and "/hooks/**" match "/files" and
	// "/hooks" too.
	private static Set<String> literalPrefixes(RequestMappingInfo info) {
		Set<String> patterns = info.getPatternValues();
		if (patterns.isEmpty()) {
			return Set.of("");
		}
		Set<String> prefixes = new HashSet<>();
		for (String pattern : patterns) {
			int end = 0;
			while (end < pattern.length() && "{*?".indexOf(pattern.charAt(end)) < 0) {
				end++;
			}
			if (end < pattern.length() && end > 0 && pattern.charAt(end - 1) == '/') {
				end--;
			}
			prefixes.add(pattern.substring(0, end));
		}
		return prefixes;
	}

	// The request methods any route accepts, or null if one accepts every method.
	private static @Nullable Set<String> requestMethods(List<Route> routes) {
		Set<String> methods = new HashSet<>();
		for (Route route : routes) {
			Set<String> mapped = route.info()
				.getMethodsCondition()
				.getMethods()
				.stream()
				.map(RequestMethod::name)
				.collect(Collectors.toSet());
			Set<String> covered = (route.requestMethods() != null) ? route.requestMethods() : mapped;
			if (covered.isEmpty()) {
				return null;
			}
			covered.stream().filter((method) -> mapped.isEmpty() || mapped.contains(method)).forEach(methods::add);
			// Spring MVC hands HEAD requests to GET handlers.
			if (route.requestMethods() == null && mapped.contains("GET")) {
				methods.add("HEAD");
			}
		}
		return Set.copyOf(methods);
	}

	/**
	 * Whether a request may reach an idempotent handler.
	 * @param request the request, before the {@code DispatcherServlet}
	 * @return {@code false} only if no idempotent handler's request methods and path
	 * patterns match it
	 */
	public boolean mayReachIdempotentHandler(HttpServletRequest request) {
		Routes routes = this.routes;
		if (routes == null) {
			return true;
		}
		if (routes.all().isEmpty()
				|| (routes.requestMethods() != null && !routes.requestMethods().contains(request.getMethod()))
				|| !startsLikeARoute(request, routes.literalPrefixes())) {
			return false;
		}
		// The patterns read the path that the DispatcherServlet parses and keeps in the
		// request. Parsed here the same way, fresh (a forwarded request still holds the
		// path of its first dispatch), and put back as it was, so that nothing downstream
		// sees a path it did not parse itself.
		Object parsedPath = null;
		Object lookupPath = null;
		boolean parsed = false;
		boolean resolved = false;
		try {
			for (Route route : routes.all()) {
				if ((route.requestMethods() != null && !route.requestMethods().contains(request.getMethod()))
						|| route.info().getMethodsCondition().getMatchingCondition(request) == null) {
					continue;
				}
				if (route.urlPathHelper() != null) {
					if (!resolved) {
						lookupPath = request.getAttribute(UrlPathHelper.PATH_ATTRIBUTE);
						resolved = true;
					}
					route.urlPathHelper().resolveAndCacheLookupPath(request);
				}
				else if (!parsed) {
					parsedPath = request.getAttribute(ServletRequestPathUtils.PATH_ATTRIBUTE);
					ServletRequestPathUtils.parseAndCache(request);
					parsed = true;
				}
				if (route.info().getActivePatternsCondition().getMatchingCondition(request) != null) {
					return true;
				}
			}
			return false;
		}
		finally {
			if (parsed) {
				request.setAttribute(ServletRequestPathUtils.PATH_ATTRIBUTE, parsedPath);
			}
			if (resolved) {
				request.setAttribute(UrlPathHelper.PATH_ATTRIBUTE, lookupPath);
			}
		}
	}

	// Whether the request's path may start with a route's literal prefix, read from the
	// raw request URI so that most requests need no parsed path: after the context path,
	// or after the servlet path where the DispatcherServlet has a path of its own. A URI
	// whose path decoding, path parameters, doubled slashes or dot segments could change
	// is left to the patterns. Case is ignored, as a mapping may ignore it.
	private static boolean startsLikeARoute(HttpServletRequest request, List<String> prefixes) {
		String uri = request.getRequestURI();
		int afterContext = request.getContextPath().length();
		// An include keeps the including request's URI and paths; the root of the
		// context may be matched as "/".
		if (request.getAttribute(RequestDispatcher.INCLUDE_REQUEST_URI) != null || uri.length() <= afterContext) {
			return true;
		}
		if (uri.indexOf('%') >= 0 || uri.indexOf(';') >= 0 || uri.contains("//") || uri.contains("/.")) {
			return true;
		}
		int afterServlet = afterContext + request.getServletPath().length();
		for (String prefix : prefixes) {
			if (uri.regionMatches(true, afterContext, prefix, 0, prefix.length())
					|| uri.regionMatches(true, afterServlet, prefix, 0, prefix.length())) {
				return true;
			}
		}
		return false;
	}

	/**
	 * The routes to idempotent handlers, the request methods any of them accepts
	 * ({@code null} for every method), the literal prefixes of their path patterns and
	 * the handlers that share a route with what tells them apart, published together.
	 */
	private record Routes(List<Route> all, @Nullable Set<String> requestMethods, List<String> literalPrefixes,
			Map<Method, String> sharedRoutes) {
	}

	/**
	 * An idempotent handler method and one of its mappings.
	 */
	private record Mapped(Method handler, RequestMappingInfo info) {

		boolean methodsOverlap(Mapped other) {
			Set<RequestMethod> mine = this.info.getMethodsCondition().getMethods();
			Set<RequestMethod> theirs = other.info.getMethodsCondition().getMethods();
			return mine.isEmpty() || theirs.isEmpty() || mine.stream().anyMatch(theirs::contains);
		}

		String conditions() {
			return this.info.getHeadersCondition() + " " + this.info.getParamsCondition() + " "
					+ this.info.getConsumesCondition() + " " + this.info.getProducesCondition() + " "
					+ this.info.getCustomCondition();
		}

	}

	/**
	 * The mapping of an idempotent handler, with the path helper of a mapping that
	 * matches string patterns ({@code null} for parsed path patterns) and the request
	 * methods its annotation covers ({@code null} for all the mapping accepts).
	 */
	private record Route(RequestMappingInfo info, @Nullable UrlPathHelper urlPathHelper,
			@Nullable Set<String> requestMethods) {
	}

}
