package io.github.idempotency.autoconfigure;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import io.github.idempotency.interceptor.OwnTransactionListener;

import org.springframework.aop.support.AopUtils;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
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

	private ConfigurableListableBeanFactory beanFactory;

	@Override
	public void setBeanFactory(BeanFactory beanFactory) throws BeansException {
		this.beanFactory = (ConfigurableListableBeanFactory) beanFactory;
	}

	@Override
	public Object postProcessAfterInitialization(Object bean, String beanName) {
		if (bean instanceof ConfigurableTransactionManager manager && !AopUtils.isAopProxy(manager)) {
			addListener(manager);
		}
		return bean;
	}

	// Only those that exist: a lazy one gets it from this post-processor when it is
	// made.
	@Override
	public void afterSingletonsInstantiated() {
		for (String name : this.beanFactory.getBeanNamesForType(ConfigurableTransactionManager.class, false, false)) {
			if (this.beanFactory.containsSingleton(name)
					&& this.beanFactory.getSingleton(name) instanceof ConfigurableTransactionManager manager
					&& !AopUtils.isAopProxy(manager)) {
				addListener(manager);
			}
		}
	}

	// Set anew rather than added to: the application may have set an unmodifiable list.
	// Never on a proxy: a class-based one's listener methods are final, and reach the
	// proxy's own empty fields rather than its target's, which had its turn before.
	private static void addListener(ConfigurableTransactionManager manager) {
		Collection<TransactionExecutionListener> current = manager.getTransactionExecutionListeners();
		if (current.stream().noneMatch(OwnTransactionListener.class::isInstance)) {
			List<TransactionExecutionListener> listeners = new ArrayList<>(current);
			listeners.add(new OwnTransactionListener());
			manager.setTransactionExecutionListeners(listeners);
		}
	}

	@Override
	public int getOrder() {
		return Ordered.LOWEST_PRECEDENCE;
	}

}
