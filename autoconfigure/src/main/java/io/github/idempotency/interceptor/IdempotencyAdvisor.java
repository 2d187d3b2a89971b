package io.github.idempotency.interceptor;

import java.lang.reflect.Method;

import org.aopalliance.aop.Advice;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.Advisor;
import org.springframework.aop.Pointcut;
import org.springframework.aop.TargetSource;
import org.springframework.aop.framework.Advised;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.aop.support.StaticMethodMatcherPointcut;

/**
 * Applies an {@link IdempotencyInterceptor} to every method an
 * {@link IdempotentOperationSource} declares idempotent.
 *
 * <p>
 * Its default order, {@link #DEFAULT_ORDER}, puts it inside Spring Security's method
 * authorization ({@code @PreAuthorize} and its kin, orders 100 to 600), so that a key is
 * claimed only for a call that was allowed, and outside {@code @Transactional},
 * Resilience4j's aspects and other advice near the lowest precedence, so that the key is
 * claimed before a transaction opens, retries of the method happen within one claim, and
 * the response is recorded only after the transaction has committed. Method validation is
 * moved in front of it by {@link ValidationBeforeIdempotencyPostProcessor}.
 *
 * @since 0.1.0
 */
public class IdempotencyAdvisor extends AbstractPointcutAdvisor {

	/**
	 * The default order: after method security, before everything of default order.
	 */
	public static final int DEFAULT_ORDER = 1000;

	private final Advice advice;

	private final Pointcut pointcut;

	/**
	 * @param source tells which methods are idempotent
	 * @param interceptor the advice
	 */
	public IdempotencyAdvisor(IdempotentOperationSource source, IdempotencyInterceptor interceptor) {
		this.advice = interceptor;
		this.pointcut = new OperationSourcePointcut(source);
		setOrder(DEFAULT_ORDER);
	}

	/**
	 * Whether a bean's proxy carries the idempotency advice, or a proxy behind it does: a
	 * second auto-proxy creator wraps the first one's proxy in its own.
	 * @param bean the bean
	 * @param behindDynamicTargets the answer where a proxy without the advice has a
	 * target that is not static (a pool, a lazy target), which cannot be looked into
	 * @return whether calls of the bean's advised methods reach the advice
	 */
	public static boolean isOn(Object bean, boolean behindDynamicTargets) {
		Object current = bean;
		// Bounded: a target source could hand out its own proxy.
		for (int depth = 0; depth < 8 && current instanceof Advised advised; depth++) {
			for (Advisor advisor : advised.getAdvisors()) {
				if (advisor instanceof IdempotencyAdvisor) {
					return true;
				}
			}
			TargetSource target = advised.getTargetSource();
			if (!target.isStatic()) {
				return behindDynamicTargets;
			}
			try {
				current = target.getTarget();
			}
			catch (Exception ex) {
				return behindDynamicTargets;
			}
		}
		return false;
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
