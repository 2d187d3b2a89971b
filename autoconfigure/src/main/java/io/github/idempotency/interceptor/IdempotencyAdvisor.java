package io.github.idempotency.interceptor;

import java.lang.reflect.Method;

import org.aopalliance.aop.Advice;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.aop.support.StaticMethodMatcherPointcut;

/**
 * Applies an {@link IdempotencyInterceptor} to every method an
 * {@link IdempotentOperationSource} declares idempotent.
 *
 * <p>
 * Its default order, {@link #DEFAULT_ORDER}, puts it outside {@code @Transactional} and
 * other advice at the default lowest precedence, so that the key is claimed before a
 * transaction opens, and the response is recorded only after the transaction has
 * committed.
 *
 * @since 0.1.0
 */
public class IdempotencyAdvisor extends AbstractPointcutAdvisor {

	/**
	 * The default order: high precedence, with room for advice that must run outside it.
	 */
	public static final int DEFAULT_ORDER = HIGHEST_PRECEDENCE + 1000;

	private final Advice advice;

	private final Pointcut pointcut;

	public IdempotencyAdvisor(IdempotentOperationSource source, IdempotencyInterceptor interceptor) {
		this.advice = interceptor;
		this.pointcut = new OperationSourcePointcut(source);
		setOrder(DEFAULT_ORDER);
	}

	@Override
	public Pointcut getPointcut() {
		return this.pointcut;
	}

	@Override
	public Advice getAdvice() {
		return this.advice;
	}

	private static final class OperationSourcePointcut extends StaticMethodMatcherPointcut {

		private final IdempotentOperationSource source;

		OperationSourcePointcut(IdempotentOperationSource source) {
			this.source = source;
			setClassFilter(source::isCandidateClass);
		}

		@Override
		public boolean matches(Method method, @Nullable Class<?> targetClass) {
			return this.source.getOperation(method, targetClass) != null;
		}

	}

}
