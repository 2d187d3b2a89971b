package io.github.idempotency.autoconfigure;

import io.github.idempotency.interceptor.OwnTransactionListener;

import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.transaction.ConfigurableTransactionManager;

/**
 * Adds an {@link OwnTransactionListener} to each transaction manager that takes listeners
 * and has none yet, whether Spring Boot or the application made it.
 *
 * @since 0.1.0
 */
public class OwnTransactionListenerRegistrar implements BeanPostProcessor {

	@Override
	public Object postProcessAfterInitialization(Object bean, String beanName) {
		if (bean instanceof ConfigurableTransactionManager manager && manager.getTransactionExecutionListeners()
			.stream()
			.noneMatch(OwnTransactionListener.class::isInstance)) {
			manager.addListener(new OwnTransactionListener());
		}
		return bean;
	}

}
