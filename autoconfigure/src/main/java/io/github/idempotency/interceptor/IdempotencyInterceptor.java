package io.github.idempotency.interceptor;

import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;

import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;

/**
 * Runs around idempotent handler methods, after Spring MVC has bound and validated their
 * arguments, and lets the request's {@link IdempotentCall} claim the key before the
 * method body runs.
 *
 * <p>
 * Outside a request prepared by the web layer (a direct call from another bean, a request
 * method that is not covered) the method simply runs. Thread-safe.
 *
 * @since 0.1.0
 */
public class IdempotencyInterceptor implements MethodInterceptor {

	@Override
	public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
		RequestAttributes attributes = RequestContextHolder.getRequestAttributes();
		if (attributes == null || !(attributes.getAttribute(IdempotentCall.ATTRIBUTE,
				RequestAttributes.SCOPE_REQUEST) instanceof IdempotentCall call)) {
			return invocation.proceed();
		}
		call.beforeInvocation(invocation.getMethod(), invocation.getArguments());
		Object result = invocation.proceed();
		call.afterInvocation(invocation.getMethod(), result);
		return result;
	}

}
