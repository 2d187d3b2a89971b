package io.github.idempotency.autoconfigure;

import io.github.idempotency.annotation.AnnotationIdempotentOperationSource;
import io.github.idempotency.annotation.AnnotationIdempotentOperationSource.RabbitListenerDeclaration;
import io.github.idempotency.interceptor.IdempotentOperationSource;
import org.jspecify.annotations.Nullable;

import org.springframework.amqp.core.AcknowledgeMode;
import org.springframework.amqp.rabbit.annotation.RabbitListenerConfigurer;
import org.springframework.amqp.rabbit.config.AbstractRabbitListenerContainerFactory;
import org.springframework.amqp.rabbit.config.SimpleRabbitListenerEndpoint;
import org.springframework.amqp.rabbit.listener.AbstractMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.MessageListenerContainer;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;

/**
 * Fails startup for an idempotent RabbitMQ listener whose messages its own code must
 * acknowledge because its container factory says so
 * ({@code spring.rabbitmq.listener.simple.acknowledge-mode=manual}, for Spring Boot's),
 * or its {@code ackMode} attribute through a placeholder: a duplicate does not run the
 * listener, so it would never be acknowledged. A literal {@code ackMode = "MANUAL"} fails
 * when the annotation is read. Not for one that returns a {@code CompletableFuture},
 * whose messages Spring AMQP acknowledges itself as the future completes. Fails too for
 * one whose messages count as acknowledged once delivered ({@code NONE}, by its factory
 * or its attribute): a message refused for now (its duplicate in progress, the store out
 * of reach) could not come again. And for one called with batches, by its factory or its
 * {@code batch} attribute through a placeholder: one key cannot stand for a batch (a
 * literal {@code batch = "true"} fails when the annotation is read). The factory's modes
 * are read from a container it makes for an endpoint of no queue, which is never started.
 * Listener beans created later (lazy ones) are not checked, and neither is the default
 * factory where a {@link RabbitListenerConfigurer} may name another. Fails too for a
 * listener of a stream, which never delivers a message again, so a message refused for
 * now would be skipped.
 */
class RabbitListenerCheck implements SmartInitializingSingleton {

	// The name Spring AMQP looks a listener's factory up by when it names none.
	private static final String DEFAULT_FACTORY = "rabbitListenerContainerFactory";

	private static final String STREAM_FACTORY = "org.springframework.rabbit.stream.config.StreamRabbitListenerContainerFactory";

	private final IdempotentOperationSource operations;

	private final ListenerAttributes attributes;

	RabbitListenerCheck(IdempotentOperationSource operations, ConfigurableListableBeanFactory beanFactory) {
		this.operations = operations;
		this.attributes = new ListenerAttributes(beanFactory);
	}

	@Override
	public void afterSingletonsInstantiated() {
		if (!(this.operations instanceof AnnotationIdempotentOperationSource annotations)) {
			return;
		}
		for (RabbitListenerDeclaration listener : annotations.rabbitListeners()) {
			String ackMode = resolve(listener.ackMode());
			if (AcknowledgeMode.MANUAL.name().equalsIgnoreCase(ackMode) && !listener.acknowledgedOnCompletion()) {
				throw manualListener(listener, "its ackMode attribute says so");
			}
			if (AcknowledgeMode.NONE.name().equalsIgnoreCase(ackMode)) {
				throw unacknowledgedListener(listener, "its ackMode attribute says so");
			}
			String batch = resolve(listener.batch());
			if ("true".equalsIgnoreCase(batch)) {
				throw batchListener(listener, "its batch attribute says so");
			}
			ListenerAttributes.ContainerFactory factory = this.attributes.containerFactory(listener.containerFactory(),
					DEFAULT_FACTORY, RabbitListenerConfigurer.class);
			if (factory != null && isStreamFactory(factory.factory().getClass())) {
				throw streamListener(listener, factory.describe() + " makes stream listeners"
						+ " (spring.rabbitmq.listener.type=stream, for Spring Boot's)");
			}
			if (ackMode != null && batch != null) {
				continue;
			}
			Containers containers = (factory != null
					&& factory.factory() instanceof AbstractRabbitListenerContainerFactory<?> made)
							? probe(made, resolve(listener.id())) : null;
			if (containers == null) {
				continue;
			}
			if (ackMode == null && containers.ackMode() == AcknowledgeMode.MANUAL
					&& !listener.acknowledgedOnCompletion()) {
				throw manualListener(listener, factory.describe() + " acknowledges manually"
						+ " (spring.rabbitmq.listener.simple.acknowledge-mode=manual, for Spring Boot's)");
			}
			if (ackMode == null && containers.ackMode() == AcknowledgeMode.NONE) {
				throw unacknowledgedListener(listener, factory.describe() + " takes each message as acknowledged"
						+ " once delivered (spring.rabbitmq.listener.simple.acknowledge-mode=none, for Spring Boot's)");
			}
			if (batch == null && containers.batch()) {
				throw batchListener(listener, factory.describe() + " calls it with batches (setBatchListener(true), or"
						+ " spring.rabbitmq.listener.simple.consumer-batch-enabled=true for Spring Boot's)");
			}
		}
	}

	// By name: Spring AMQP's stream support is a module of its own, which the starter
	// does not depend on.
	private static boolean isStreamFactory(Class<?> factoryClass) {
		for (Class<?> type = factoryClass; type != null; type = type.getSuperclass()) {
			if (type.getName().equals(STREAM_FACTORY)) {
				return true;
			}
		}
		return false;
	}

	// The attribute's value, null where it leaves the choice to the factory.
	private @Nullable String resolve(String attribute) {
		Object value = this.attributes.resolve(attribute);
		String text = (value != null) ? value.toString().trim() : "";
		return text.isEmpty() ? null : text;
	}

	// Spring AMQP's own factories (simple and direct containers) make a container for an
	// endpoint of no queue, which is never started, as they would for the listener: the
	// container keeps the factory's acknowledge mode, and the endpoint is told whether it
	// gets batches. The endpoint carries the listener's id, by which a container
	// customizer may set the listener's container apart.
	private static @Nullable Containers probe(AbstractRabbitListenerContainerFactory<?> factory, @Nullable String id) {
		SimpleRabbitListenerEndpoint endpoint = new SimpleRabbitListenerEndpoint();
		endpoint.setId((id != null) ? id : "idempotency-listener-check");
		endpoint.setMessageListener((message) -> {
		});
		MessageListenerContainer container;
		try {
			container = factory.createListenerContainer(endpoint);
		}
		// One that cannot make a container for such an endpoint cannot be told.
		catch (RuntimeException ex) {
			return null;
		}
		AcknowledgeMode ackMode = (container instanceof AbstractMessageListenerContainer configured)
				? configured.getAcknowledgeMode() : null;
		boolean batch = Boolean.TRUE.equals(endpoint.getBatchListener())
				|| (container instanceof SimpleMessageListenerContainer simple && simple.isConsumerBatchEnabled());
		return new Containers(ackMode, batch);
	}

	private static IllegalStateException manualListener(RabbitListenerDeclaration listener, String why) {
		return new IllegalStateException("@Idempotent on " + listener.listener() + ", a RabbitMQ listener whose"
				+ " messages its own code acknowledges: " + why + ". A duplicate does not run it, so it would never"
				+ " be acknowledged. Put @Idempotent on the method that does the work, and acknowledge in the"
				+ " listener once that method returns");
	}

	private static IllegalStateException batchListener(RabbitListenerDeclaration listener, String why) {
		return new IllegalStateException("@Idempotent on " + listener.listener() + ", a RabbitMQ listener that is"
				+ " called with batches: " + why + ". One key cannot stand for a batch, whose messages change from one"
				+ " delivery to the next. Call an @Idempotent method for each message of the batch; or, if it takes"
				+ " one message, give its @RabbitListener batch = \"false\" or a container factory of single"
				+ " messages");
	}

	private static IllegalStateException unacknowledgedListener(RabbitListenerDeclaration listener, String why) {
		return new IllegalStateException("@Idempotent on " + listener.listener() + ", a RabbitMQ listener whose"
				+ " messages are acknowledged as they are delivered: " + why + ". A message whose duplicate is still"
				+ " in progress, or that arrives while the idempotency store cannot be reached, is not run and cannot"
				+ " be delivered again, so it would be lost. Use the AUTO acknowledge mode");
	}

	private static IllegalStateException streamListener(RabbitListenerDeclaration listener, String why) {
		return new IllegalStateException("@Idempotent on " + listener.listener() + ", a RabbitMQ stream listener: "
				+ why + ". A stream delivers each message once, whatever the listener throws, so a message whose"
				+ " duplicate is still in progress, or that arrives while the idempotency store cannot be reached,"
				+ " would be skipped for good. Call an @Idempotent method from the listener, and call it again while"
				+ " it throws IdempotentCallInProgressException or IdempotencyStoreException (but for"
				+ " UnreadableRecordException and IdempotentOutcomeNotStoredException, which come again)");
	}

	/**
	 * What a factory's containers do with the listener's messages.
	 */
	private record Containers(@Nullable AcknowledgeMode ackMode, boolean batch) {

	}

}
