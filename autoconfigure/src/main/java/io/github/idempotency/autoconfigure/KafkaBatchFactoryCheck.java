package io.github.idempotency.autoconfigure;

import java.util.Map;

import io.github.idempotency.annotation.AnnotationIdempotentOperationSource;
import io.github.idempotency.interceptor.IdempotentOperationSource;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.kafka.config.AbstractKafkaListenerContainerFactory;

/**
 * Fails startup for an idempotent Kafka listener whose container factory hands it batches
 * ({@code spring.kafka.listener.type=batch}): one key would stand for a whole batch,
 * whose records change from one poll to the next. The listener's own {@code batch}
 * attribute is checked when the annotation is read.
 */
class KafkaBatchFactoryCheck implements SmartInitializingSingleton {

	// The name Spring Kafka looks a listener's factory up by when it names none.
	private static final String DEFAULT_FACTORY = "kafkaListenerContainerFactory";

	private final IdempotentOperationSource operations;

	private final ListableBeanFactory beanFactory;

	KafkaBatchFactoryCheck(IdempotentOperationSource operations, ListableBeanFactory beanFactory) {
		this.operations = operations;
		this.beanFactory = beanFactory;
	}

	@Override
	public void afterSingletonsInstantiated() {
		if (!(this.operations instanceof AnnotationIdempotentOperationSource annotations)) {
			return;
		}
		for (Map.Entry<String, String> listener : annotations.kafkaListenerContainerFactories().entrySet()) {
			String name = listener.getValue().isEmpty() ? DEFAULT_FACTORY : listener.getValue();
			if (this.beanFactory.containsBean(name)
					&& this.beanFactory.getBean(name) instanceof AbstractKafkaListenerContainerFactory<?, ?, ?> factory
					&& Boolean.TRUE.equals(factory.isBatchListener())) {
				throw new IllegalStateException("@Idempotent on " + listener.getKey() + ", a Kafka listener that the"
						+ " container factory '" + name
						+ "' calls with batches: one key cannot stand for a batch, whose"
						+ " records change from one poll to the next. Process each record through an @Idempotent"
						+ " method with KafkaBatch.forEachRecord, or give this listener batch = \"false\"");
			}
		}
	}

}
