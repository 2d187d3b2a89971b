package io.github.idempotency.web;

import java.lang.reflect.Method;
import java.util.Arrays;

import io.github.idempotency.interceptor.IdempotentCall;
import io.github.idempotency.interceptor.IdempotentCallSource;
import jakarta.servlet.http.HttpServletRequest;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.util.WebUtils;

/**
 * Finds the idempotent request being handled on the current thread, prepared by
 * {@link IdempotentHandlerInterceptor}, as a request attribute.
 *
 * <p>
 * A request that {@link IdempotencyFilter} prepared but whose handler mapping never ran
 * the interceptor (a mapping built by a {@code WebMvcConfigurationSupport} subclass, or
 * Spring Data REST's, neither of which takes a {@code WebMvcConfigurer}'s interceptors)
 * has its idempotent handler refused with a 503 problem rather than run unprotected.
 *
 * @since 0.1.0
 */
public class RequestCallSource implements IdempotentCallSource {

	private static final Log logger = LogFactory.getLog(RequestCallSource.class);

	@Override
	public @Nullable IdempotentCall currentCall() {
		RequestAttributes attributes = RequestContextHolder.getRequestAttributes();
		if (attributes == null) {
			return null;
		}
		try {
			if (attributes.getAttribute(IdempotentExchange.ATTRIBUTE,
					RequestAttributes.SCOPE_REQUEST) instanceof IdempotentCall call) {
				return call;
			}
			return (attributes instanceof ServletRequestAttributes servlet) ? notIntercepted(servlet.getRequest())
					: null;
		}
		catch (IllegalStateException ex) {
			// Attributes handed to a thread that outlived its request: no request to
			// drive.
			return null;
		}
	}

	private static @Nullable IdempotentCall notIntercepted(HttpServletRequest request) {
		IdempotencyFilter.SwappableRequest prepared = WebUtils.getNativeRequest(request,
				IdempotencyFilter.SwappableRequest.class);
		if (prepared == null || prepared.interceptorSawTheHandler() || !(request
			.getAttribute(HandlerMapping.BEST_MATCHING_HANDLER_ATTRIBUTE) instanceof HandlerMethod handler)) {
			return null;
		}
		return new IdempotentCall() {

			// Only the request's own handler is refused: an idempotent bean it calls goes
			// its own way. Told by the handler's class rather than its object, which a
			// controller proxied by its interfaces does not show: better a method of
			// another bean refused than the handler let run.
			@Override
			public boolean beforeInvocation(@Nullable Object target, Method method, Object[] arguments) {
				if (!method.getDeclaringClass().isAssignableFrom(handler.getBeanType())
						|| !method.getName().equals(handler.getMethod().getName())
						|| !Arrays.equals(method.getParameterTypes(), handler.getMethod().getParameterTypes())) {
					return false;
				}
				logger.error(handler.getShortLogMessage() + " is @Idempotent but its handler mapping does not run"
						+ " IdempotentHandlerInterceptor: add that bean to the interceptors of the mapping (a"
						+ " WebMvcConfigurationSupport subclass's addInterceptors, or Spring Data REST's), which"
						+ " take no WebMvcConfigurer's");
				throw new IdempotencyProblemException(IdempotencyProblem.NOT_PROTECTED,
						"This operation cannot be processed safely: idempotency is not in effect for it.", null);
			}

		};
	}

}
