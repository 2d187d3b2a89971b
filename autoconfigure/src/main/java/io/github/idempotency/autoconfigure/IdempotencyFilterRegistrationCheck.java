package io.github.idempotency.autoconfigure;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import io.github.idempotency.web.IdempotencyFilter;
import jakarta.servlet.DispatcherType;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.web.servlet.AbstractFilterRegistrationBean;

/**
 * Fails startup when a registration bean holds an {@link IdempotencyFilter} (the
 * application's own in place of the starter's, say) for too few dispatcher types: without
 * its async dispatch, an async handler's answer never reaches the client and its key
 * stays claimed until the lease renewals run out; without a forward's, the answer of a
 * forward from a prepared request may be lost (Tomcat 11 finishes the response as a
 * forward returns). Error dispatches may be left out: an answer whose error page the
 * filter does not see is released.
 */
class IdempotencyFilterRegistrationCheck implements SmartInitializingSingleton {

	private static final Set<DispatcherType> NEEDED = EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC,
			DispatcherType.FORWARD);

	private final ListableBeanFactory beanFactory;

	IdempotencyFilterRegistrationCheck(ListableBeanFactory beanFactory) {
		this.beanFactory = beanFactory;
	}

	@Override
	public void afterSingletonsInstantiated() {
		for (Map.Entry<String, AbstractFilterRegistrationBean> entry : this.beanFactory
			.getBeansOfType(AbstractFilterRegistrationBean.class, false, false)
			.entrySet()) {
			AbstractFilterRegistrationBean<?> registration = entry.getValue();
			if (registration.getFilter() instanceof IdempotencyFilter) {
				Set<DispatcherType> types = registration.determineDispatcherTypes();
				if (registration.isEnabled() && !types.containsAll(NEEDED)) {
					throw tooFew(entry.getKey(), types);
				}
			}
		}
	}

	private static IllegalStateException tooFew(String beanName, Set<DispatcherType> types) {
		return new IllegalStateException("IdempotencyFilter (bean '" + beanName + "') is registered for " + types
				+ " dispatches only: register it for every dispatcher type"
				+ " (setDispatcherTypes(EnumSet.allOf(DispatcherType.class))), as the starter's own registration"
				+ " is. Without ASYNC dispatches an async handler's answer never reaches the client and its"
				+ " idempotency key stays claimed; without FORWARD dispatches a forward's answer may be lost.");
	}

}
