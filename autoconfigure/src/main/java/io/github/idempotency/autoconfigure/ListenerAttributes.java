package io.github.idempotency.autoconfigure;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.config.BeanExpressionContext;
import org.springframework.beans.factory.config.BeanExpressionResolver;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;

/**
 * Reads the attributes of listener annotations as Spring Kafka and Spring AMQP do, once
 * every singleton exists: placeholders first, then an expression, which may give a bean.
 */
final class ListenerAttributes {

	private final ConfigurableListableBeanFactory beanFactory;

	ListenerAttributes(ConfigurableListableBeanFactory beanFactory) {
		this.beanFactory = beanFactory;
	}

	/**
	 * The value an attribute stands for, empty for an empty attribute.
	 */
	@Nullable Object resolve(String value) {
		if (value.isEmpty()) {
			return "";
		}
		String resolved = this.beanFactory.resolveEmbeddedValue(value);
		BeanExpressionResolver expressions = this.beanFactory.getBeanExpressionResolver();
		return (resolved != null && expressions != null)
				? expressions.evaluate(resolved, new BeanExpressionContext(this.beanFactory, null)) : resolved;
	}

	/**
	 * The container factory a listener's {@code containerFactory} attribute names, or,
	 * where it names none, the library's default one; {@code null} where that cannot be
	 * told: no such bean, or a configurer bean that may name another default.
	 * @param attribute the attribute as written
	 * @param defaultName the bean name the library looks the default factory up by
	 * @param configurer the type of the library's configurer beans
	 */
	@Nullable ContainerFactory containerFactory(String attribute, String defaultName, Class<?> configurer) {
		Object factory = resolve(attribute);
		String name = (factory instanceof String named && !named.isBlank()) ? named.trim() : null;
		if (factory == null || "".equals(factory)) {
			if (this.beanFactory.getBeanNamesForType(configurer, false, false).length > 0) {
				return null;
			}
			name = defaultName;
		}
		if (name != null) {
			factory = this.beanFactory.containsBean(name) ? this.beanFactory.getBean(name) : null;
		}
		return (factory != null) ? new ContainerFactory(name, factory) : null;
	}

	/**
	 * A listener's container factory.
	 *
	 * @param name its bean name, {@code null} when an expression gave the factory itself
	 * @param factory the factory
	 */
	record ContainerFactory(@Nullable String name, Object factory) {

		String describe() {
			return "the container factory" + ((this.name != null) ? " '" + this.name + "'" : "");
		}

	}

}
