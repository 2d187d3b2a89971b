package io.github.idempotency.autoconfigure;

import io.github.idempotency.annotation.AnnotationIdempotentOperationSource;
import io.github.idempotency.annotation.AnnotationIdempotentOperationSource.RabbitListenerDeclaration;
import io.github.idempotency.interceptor.IdempotentOperationSource;
import org.jspecify.annotations.Nullable;

import org.springframework.amqp.core.AcknowledgeMode;
import org.springframework.amqp.rabbit.annotation.RabbitListenerConfigurer;
import org.springframework.amqp.rabbit.config.AbstractRabbitListenerContainerFactory;
import org.springframework.amqp.rabbit.listener.AbstractMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.MessageListenerContainer;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;

/**
 * Fails startup for an idempotent RabbitMQ listener whose messages its own code must
 * acknowledge because its container factory says so
 * ({@code spring.rabbitmq.listener.simple.acknowledge-mode=manual}, for Spring Boot's),
 * or its {@code ackMode} attribute through a placeholder: a duplicate does not run the
 * listener, so it would never be acknowledged. A literal {@code ackMode = "MANUAL"} fails
 * when the annotation is read. Fails too for one whose messages count as acknowledged
 * once delivered ({@code NONE}, by its factory or its attribute): a message refused for
 * now (its duplicate in progress, the store out of reach) could not come again. The
 * factory's mode is read from a container it makes, which is never started. Listener
 * beans created later (lazy ones) are not checked, and neither is the default factory
 * where a {@link RabbitListenerConfigurer} may name another.
 */
class RabbitListenerCheck implements SmartInitializingSingleton {

	// The name Spring AMQP looks a listener's factory up by when it names none.
	private static final String DEFAULT_FACTORY = "rabbitListenerContainerFactory";

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
			Object ackMode = this.attributes.resolve(listener.ackMode());
			if (ackMode != null && !"".equals(ackMode)) {
				String mode = ackMode.toString().trim();
				if (mode.equalsIgnoreCase(AcknowledgeMode.MANUAL.name())) {
					throw manualListener(listener, "its ackMode attribute says so");
				}
				if (mode.equalsIgnoreCase(AcknowledgeMode.NONE.name())) {
					throw unacknowledgedListener(listener, "its ackMode attribute says so");
				}
				continue;
			}
			ListenerAttributes.ContainerFactory factory = this.attributes.containerFactory(listener.containerFactory(),
					DEFAULT_FACTORY, RabbitListenerConfigurer.class);
			AcknowledgeMode mode = (factory != null
					&& factory.factory() instanceof AbstractRabbitListenerContainerFactory<?> containers)
							? acknowledgeMode(containers) : null;
			if (mode == AcknowledgeMode.MANUAL) {
				throw manualListener(listener, factory.describe() + " acknowledges manually"
						+ " (spring.rabbitmq.listener.simple.acknowledge-mode=manual, for Spring Boot's)");
			}
			if (mode == AcknowledgeMode.NONE) {
				throw unacknowledgedListener(listener, factory.describe() + " takes each message as acknowledged"
						+ " once delivered (spring.rabbitmq.listener.simple.acknowledge-mode=none, for Spring Boot's)");
			}
		}
	}

	// Spring AMQP's own factories (simple and direct containers) keep the mode they were
	// given for the containers they make, and make one without an endpoint.
	private static @Nullable AcknowledgeMode acknowledgeMode(AbstractRabbitListenerContainerFactory<?> factory) {
		MessageListenerContainer container;
		try {
			container = factory.createListenerContainer();
		}
		// One that cannot make a container without an endpoint cannot be told.
		catch (RuntimeException ex) {
			return null;
		}
		return (container instanceof AbstractMessageListenerContainer configured) ? configured.getAcknowledgeMode()
				: null;
	}

	private static IllegalStateException manualListener(RabbitListenerDeclaration listener, String why) {
		return new IllegalStateException("@Idempotent on " + listener.listener() + ", a RabbitMQ listener whose"
				+ " messages its own code acknowledges: " + why + ". A duplicate does not run it, so it would never"
				+ " be acknowledged. Put @Idempotent on the method that does the work, and acknowledge in the"
				+ " listener once that method returns");
	}

	private static IllegalStateException unacknowledgedListener(RabbitListenerDeclaration listener, String why) {
		return new IllegalStateException("@Idempotent on " + listener.listener()
				+ ", a RabbitMQ listener whose messages are" + " acknowledged as they are delivered: " + why
				+ ". A message whose duplicate is still in progress,"
				+ " or that arrives while the idempotency store cannot be reached, is not run and cannot be"
				+ " delivered again, so it would be lost. Use the AUTO acknowledge mode");
	}

}
