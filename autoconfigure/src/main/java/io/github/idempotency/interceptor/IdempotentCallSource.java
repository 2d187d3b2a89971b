package io.github.idempotency.interceptor;

import org.jspecify.annotations.Nullable;

/**
 * Finds the call a transport prepared for the current thread, such as the HTTP request
 * being handled, so that {@link IdempotencyInterceptor} lets that transport drive its
 * handler method. Implementations must be fast: they are asked on every call of an
 * idempotent method.
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface IdempotentCallSource {

	/**
	 * The call prepared for the current thread.
	 * @return the call, or {@code null} if there is none
	 */
	@Nullable IdempotentCall currentCall();

}
