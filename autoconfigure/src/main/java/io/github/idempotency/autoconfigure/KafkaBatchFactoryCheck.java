package io.github.idempotency.autoconfigure;

import io.github.idempotency.annotation.AnnotationIdempotentOperationSource;
import io.github.idempotency.annotation.AnnotationIdempotentOperationSource.KafkaListenerDeclaration;
import io.github.idempotency.interceptor.IdempotentOperationSource;

import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.kafka.annotation.KafkaListenerConfigurer;
import org.springframework.kafka.config.AbstractKafkaListenerContainerFactory;

/**
 * Fails startup for an idempotent Kafka listener that is called with batches because its
 * container factory says so ({@code spring.kafka.listener.type=batch}), or its
 * {@code batch} attribute through a placeholder: one key would stand for a whole batch,
 * whose records change from one poll to the next. A literal {@code batch = "true"} fails
 * when the annotation is read. The attributes are resolved as Spring Kafka resolves them,
 * once every singleton exists. Listener beans created later (lazy ones) are not checked,
 * and neither is the default factory where a {@link KafkaListenerConfigurer} may name
 * another.
 */
class KafkaBatchFactoryCheck implements SmartInitializingSingleton {

	// The name Spring Kafka looks a listener's factory up by when it names none.
	private static final String DEFAULT_FACTORY = "kafkaListenerContainerFactory";

	private final IdempotentOperationSource operations;

	private final ListenerAttributes attributes;

	KafkaBatchFactoryCheck(IdempotentOperationSource operations, ConfigurableListableBeanFactory beanFactory) {
		this.operations = operations;
		this.attributes = new ListenerAttributes(beanFactory);
	}

	@Override
	public void afterSingletonsInstantiated() {
		if (!(this.operations instanceof AnnotationIdempotentOperationSource annotations)) {
			return;
		}
		for (KafkaListenerDeclaration listener : annotations.kafkaListeners()) {
			Object batch = this.attributes.resolve(listener.batch());
			if (batch != null && !"".equals(batch)) {
				if (Boolean.parseBoolean(batch.toString().trim())) {
					throw batchListener(listener, "its batch attribute says so");
				}
				continue;
			}
			ListenerAttributes.ContainerFactory factory = this.attributes.containerFactory(listener.containerFactory(),
					DEFAULT_FACTORY, KafkaListenerConfigurer.class);
			if (factory != null && factory.factory() instanceof AbstractKafkaListenerContainerFactory<?, ?, ?> batching
					&& Boolean.TRUE.equals(batching.isBatchListener())) {
				throw batchListener(listener, factory.describe()
						+ " calls it with batches (spring.kafka.listener.type=batch, for Spring Boot's)");
			}
		}
	}

	private static IllegalStateException batchListener(KafkaListenerDeclaration listener, String why) {
		return new IllegalStateException("@Idempotent on " + listener.listener() + ", a Kafka listener that is called"
				+ " with batches: " + why + ". One key cannot stand for a batch, whose records change from one poll"
				+ " to the next. Process each record through an @Idempotent method with KafkaBatch.forEachRecord;"
				+ " or, if it takes one record, give its @KafkaListener batch = \"false\" or a record container"
				+ " factory");
	}

}
