package io.github.idempotency.interceptor;

import java.lang.reflect.Method;

import org.jspecify.annotations.Nullable;

/**
 * The idempotency state of a call a transport prepared, such as the request being
 * handled, found through an {@link IdempotentCallSource} and driven by
 * {@link IdempotencyInterceptor} once the handler's arguments are bound and validated.
 *
 * @since 0.1.0
 */
public interface IdempotentCall {

	/**
	 * Called just before an idempotent method runs. Returns {@code true} when the method
	 * is this call's handler and should run; throws the exception that answers the call
	 * instead (a replay or a problem); returns {@code false} when the method is not this
	 * call's to drive (another idempotent bean the handler calls, say), which then goes
	 * its own way.
	 * @param target the object the method is about to run on, behind its proxy
	 * @param method the method about to run
	 * @param arguments its bound arguments
	 * @return whether this call drives the method
	 */
	boolean beforeInvocation(@Nullable Object target, Method method, Object[] arguments);

	/**
	 * Called when a method this call drives returned normally, with what it returned; a
	 * method may return work that goes on, such as a {@code CompletableFuture}.
	 * @param method the handler method
	 * @param result what it returned
	 */
	default void afterInvocation(Method method, @Nullable Object result) {
	}

	/**
	 * Called when a method this call drives threw. Advice around the method may call it
	 * again (a retry), and {@link #beforeInvocation} is then asked again.
	 * @param method the handler method
	 * @param failure what it threw
	 */
	default void afterThrowing(Method method, Throwable failure) {
	}

}
