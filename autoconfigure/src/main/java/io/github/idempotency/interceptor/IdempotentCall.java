package io.github.idempotency.interceptor;

import java.lang.reflect.Method;

import org.jspecify.annotations.Nullable;

/**
 * The idempotency state of the request being handled, kept as a request attribute under
 * {@link #ATTRIBUTE} by the web layer and driven by {@link IdempotencyInterceptor} once
 * the handler's arguments are bound and validated.
 *
 * @since 0.1.0
 */
public interface IdempotentCall {

	/**
	 * Name of the request attribute holding the current call.
	 */
	String ATTRIBUTE = IdempotentCall.class.getName();

	/**
	 * Called just before the handler method runs. Returns normally when the method should
	 * run; otherwise throws the exception that answers the request instead (a replay or a
	 * problem).
	 * @param method the handler method
	 * @param arguments its bound arguments
	 */
	void beforeInvocation(Method method, Object[] arguments);

	/**
	 * Called when the method returned normally, with what it returned; a method may
	 * return work that goes on, such as a {@code CompletableFuture}.
	 * @param method the handler method
	 * @param result what it returned
	 */
	default void afterInvocation(Method method, @Nullable Object result) {
	}

}
