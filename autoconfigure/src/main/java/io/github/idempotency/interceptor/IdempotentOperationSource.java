package io.github.idempotency.interceptor;

import java.lang.reflect.Method;

import org.jspecify.annotations.Nullable;

/**
 * Tells which methods are idempotent and how.
 *
 * <p>
 * The answer for a method and target class must not change while the application runs:
 * proxies, the request matcher and the handler interceptor each decide once and keep what
 * they were told.
 *
 * @since 0.1.0
 */
public interface IdempotentOperationSource {

	/**
	 * Whether the class may declare idempotent methods at all; {@code false} lets
	 * proxying skip it.
	 * @param targetClass the class to check
	 * @return {@code false} if no method of the class can be idempotent
	 */
	default boolean isCandidateClass(Class<?> targetClass) {
		return true;
	}

	/**
	 * The operation of a method, or {@code null} if it is not idempotent.
	 * @param method the method, possibly from an interface
	 * @param targetClass the class the method is invoked on, or {@code null}
	 * @return the operation, or {@code null}
	 * @throws IllegalStateException if the method's declaration is invalid
	 */
	@Nullable IdempotentOperation getOperation(Method method, @Nullable Class<?> targetClass);

}
