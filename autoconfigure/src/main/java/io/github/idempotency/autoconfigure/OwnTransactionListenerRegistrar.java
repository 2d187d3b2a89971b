package io.github.idempotency.autoconfigure;

import java.util.ArrayList;
import java.util.List;

import io.github.idempotency.interceptor.OwnTransactionListener;

import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.core.Ordered;
import org.springframework.core.PriorityOrdered;
import org.springframework.transaction.ConfigurableTransactionManager;
import org.springframework.transaction.TransactionExecutionListener;

/**
 * Adds an {@link OwnTransactionListener} to each transaction manager that takes listeners
 * and has none yet, whether Spring Boot or the application made it: as each is made, and
 * once every singleton exists, for those made before this post-processor (an
 * application's {@code TransactionManagementConfigurer} makes its transaction manager
 * while the transaction advice is made, which can be before any post-processor applies).
 *
 * @since 0.1.0
 */
public class OwnTransactionListenerRegistrar
		implements BeanPostProcessor, PriorityOrdered, BeanFactoryAware, SmartInitializingSingleton {

	private ListableBeanFactory beanFactory;

	@Override
	public void setBeanFactory(BeanFactory beanFactory) throws BeansException {
		this.beanFactory = (ListableBeanFactory) beanFactory;
	}

	@Override
	public Object postProcessAfterInitialization(Object bean, String beanName) {
		if (bean instanceof ConfigurableTransactionManager manager) {
			addListener(manager);
		}
		return bean;
	}

	@Override
	public void afterSingletonsInstantiated() {
		this.beanFactory.getBeansOfType(ConfigurableTransactionManager.class, false, false)
			.values()
			.forEach(OwnTransactionListenerRegistrar::addListener);
	}

	// Set anew rather than added to: the application may have set an unmodifiable list.
	private static void addListener(ConfigurableTransactionManager manager) {
		if (manager.getTransactionExecutionListeners().stream().noneMatch(OwnTransactionListener.class::isInstance)) {
			List<TransactionExecutionListener> listeners = new ArrayList<>(manager.getTransactionExecutionListeners());
			listeners.add(new OwnTransactionListener());
			manager.setTransactionExecutionListeners(listeners);
		}
	}

	@Override
	public int getOrder() {
		return Ordered.LOWEST_PRECEDENCE;
	}

}
