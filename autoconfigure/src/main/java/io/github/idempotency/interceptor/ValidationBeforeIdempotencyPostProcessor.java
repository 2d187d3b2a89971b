package io.github.idempotency.interceptor;

import java.util.List;

import org.springframework.aop.Advisor;
import org.springframework.aop.framework.Advised;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.validation.beanvalidation.MethodValidationInterceptor;

/**
 * Puts method validation in front of the {@link IdempotencyAdvisor} on beans that have
 * both, so that a key is claimed only for a call whose arguments passed validation.
 *
 * <p>
 * Spring's {@code MethodValidationPostProcessor} does not order its advisor among the
 * others: it appends it to a proxy that the auto-proxy creator has already made, which
 * puts validation inside the idempotency advice, and a call that fails validation would
 * already hold its key (and a 400 mapped from the violation would be stored). This
 * post-processor has no order, so it runs after every ordered one, that processor
 * included, and moves the validation advisor just in front of ours. Every other advisor
 * (method security, transactions, retries) keeps the place its order gives it.
 *
 * @since 0.1.0
 */
public class ValidationBeforeIdempotencyPostProcessor implements BeanPostProcessor {

	@Override
	public Object postProcessAfterInitialization(Object bean, String beanName) {
		if (!(bean instanceof Advised advised) || advised.isFrozen()) {
			return bean;
		}
		List<Advisor> advisors = List.of(advised.getAdvisors());
		int idempotency = -1;
		for (int i = 0; i < advisors.size(); i++) {
			Advisor advisor = advisors.get(i);
			if (advisor instanceof IdempotencyAdvisor) {
				idempotency = i;
			}
			else if (idempotency >= 0 && advisor.getAdvice() instanceof MethodValidationInterceptor) {
				advised.removeAdvisor(advisor);
				advised.addAdvisor(idempotency, advisor);
				idempotency++;
			}
		}
		return bean;
	}

}
