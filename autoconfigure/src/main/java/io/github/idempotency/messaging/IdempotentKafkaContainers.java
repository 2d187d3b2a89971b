package io.github.idempotency.messaging;

import java.time.Duration;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.AbstractMessageListenerContainer;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.MessageListenerContainer;

/**
 * Gives every Kafka listener container, those of {@code @KafkaListener} methods and those
 * declared as beans, an {@link IdempotentKafkaErrorHandler} around the handler it has,
 * just before the containers start. A container registered after startup keeps the
 * handler it was given.
 *
 * @since 0.1.0
 */
public class IdempotentKafkaContainers implements SmartLifecycle {

	private final ObjectProvider<KafkaListenerEndpointRegistry> registry;

	private final Duration inProgressRetryAfter;

	private final Duration storeUnavailableRetryAfter;

	private volatile boolean running;

	/**
	 * @param registry the registry of the listener containers, looked up only when
	 * needed: a lifecycle bean that depends on it would be started after it, and so after
	 * the containers
	 * @param inProgressRetryAfter how long to wait before a record whose duplicate is in
	 * progress is tried again
	 * @param storeUnavailableRetryAfter how long to wait before a record the store could
	 * not check is tried again
	 */
	public IdempotentKafkaContainers(ObjectProvider<KafkaListenerEndpointRegistry> registry,
			Duration inProgressRetryAfter, Duration storeUnavailableRetryAfter) {
		this.registry = registry;
		this.inProgressRetryAfter = inProgressRetryAfter;
		this.storeUnavailableRetryAfter = storeUnavailableRetryAfter;
	}

	@Override
	public void start() {
		for (MessageListenerContainer container : this.registry.getObject().getAllListenerContainers()) {
			if (container instanceof AbstractMessageListenerContainer<?, ?> configurable
					&& !(configurable.getCommonErrorHandler() instanceof IdempotentKafkaErrorHandler)) {
				CommonErrorHandler handler = configurable.getCommonErrorHandler();
				configurable.setCommonErrorHandler(
						new IdempotentKafkaErrorHandler((handler != null) ? handler : new DefaultErrorHandler(),
								this.inProgressRetryAfter, this.storeUnavailableRetryAfter));
			}
		}
		this.running = true;
	}

	@Override
	public void stop() {
		this.running = false;
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/**
	 * Just before the registry's, which starts the containers; containers declared as
	 * beans start in that phase too unless told otherwise.
	 */
	@Override
	public int getPhase() {
		return Math.min(this.registry.getObject().getPhase(), AbstractMessageListenerContainer.DEFAULT_PHASE) - 1;
	}

}
