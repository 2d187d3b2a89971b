package io.github.idempotency.messaging;

import java.time.Duration;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.BeansException;
import org.springframework.beans.DirectFieldAccessor;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.listener.AbstractMessageListenerContainer;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.kafka.listener.adapter.AsyncRepliesAware;

/**
 * Gives every Kafka listener container, those of {@code @KafkaListener} methods and those
 * declared as beans, an {@link IdempotentKafkaErrorHandler} around the handler it has,
 * just before the containers start, and every transactional one (with a transaction
 * manager) an {@link IdempotentKafkaAfterRollbackProcessor} around its after-rollback
 * processor, which decides after a rollback. A container that commits offsets out of
 * order (its listener returns a future, or it has async acks) gets a handler that retries
 * in memory instead of seeking. A container registered after startup (that of a lazy
 * listener bean, say) keeps the handler and processor it was given. A transactional
 * container without a handler keeps none, as Spring Kafka means it to. A container whose
 * consumer must poll more often than a refused record's pause lets it is reported.
 *
 * @since 0.1.0
 */
public class IdempotentKafkaContainers implements SmartLifecycle {

	private static final Log logger = LogFactory.getLog(IdempotentKafkaContainers.class);

	// Kafka's default max.poll.interval.ms.
	private static final long DEFAULT_POLL_INTERVAL = 300_000;

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
			if (!(container instanceof AbstractMessageListenerContainer<?, ?> configurable)) {
				continue;
			}
			warnIfPausesOutlastPolls(configurable);
			// After a rollback, the after-rollback processor decides, whatever the error
			// handler did in the transaction.
			boolean transactional = isTransactional(configurable.getContainerProperties());
			boolean wrapProcessor = transactional
					&& !(configurable.getAfterRollbackProcessor() instanceof IdempotentKafkaAfterRollbackProcessor);
			CommonErrorHandler handler = configurable.getCommonErrorHandler();
			// Wrapped by the application already, perhaps for a container that commits in
			// order.
			if (handler instanceof IdempotentKafkaErrorHandler wrapper && wrapper.seeksAfterHandling()
					&& commitsOutOfOrder(configurable.getContainerProperties())) {
				warnOfSeeks(container, "the IdempotentKafkaErrorHandler it was given",
						"Construct it with outOfOrderCommits = true");
			}
			// Spring Kafka leaves a transactional container without a handler on purpose.
			boolean wrapHandler = !(handler instanceof IdempotentKafkaErrorHandler)
					&& !(handler == null && transactional);
			if (!wrapProcessor && !wrapHandler) {
				continue;
			}
			if (configurable.isRunning()) {
				logger.warn("Kafka listener container " + container.getListenerId() + " started before the"
						+ " idempotency error handling could be given to it: a record whose duplicate is in progress"
						+ " goes to its own handler or after-rollback processor until it restarts");
			}
			if (wrapProcessor) {
				configurable.setAfterRollbackProcessor(
						new IdempotentKafkaAfterRollbackProcessor(configurable.getAfterRollbackProcessor(),
								this.inProgressRetryAfter, this.storeUnavailableRetryAfter));
			}
			if (wrapHandler) {
				configurable.setCommonErrorHandler(wrapped(container, handler));
			}
		}
		this.running = true;
	}

	private IdempotentKafkaErrorHandler wrapped(MessageListenerContainer container,
			@Nullable CommonErrorHandler handler) {
		boolean outOfOrder = commitsOutOfOrder(container.getContainerProperties());
		// A handler that seeks may not handle a record any other way (it logs it and
		// moves on, by default): it keeps seeking, and the container stalls as it would
		// for any exception its listener threw.
		if (outOfOrder && handler != null && handler.seeksAfterHandling()
				&& !(handler instanceof DefaultErrorHandler)) {
			warnOfSeeks(container, "its error handler, a " + handler.getClass().getName() + ",",
					"Give it a DefaultErrorHandler, or a handler that does not seek");
			outOfOrder = false;
		}
		return new IdempotentKafkaErrorHandler((handler != null) ? handler : new DefaultErrorHandler(),
				this.inProgressRetryAfter, this.storeUnavailableRetryAfter, outOfOrder);
	}

	// The pause before a refused record is tried again holds the consumer's thread,
	// which polls nothing meanwhile.
	private void warnIfPausesOutlastPolls(AbstractMessageListenerContainer<?, ?> container) {
		Duration longest = (this.inProgressRetryAfter.compareTo(this.storeUnavailableRetryAfter) >= 0)
				? this.inProgressRetryAfter : this.storeUnavailableRetryAfter;
		Duration pollInterval = maxPollInterval(container);
		if (longest.compareTo(pollInterval) >= 0) {
			logger.warn("Kafka listener container " + container.getListenerId() + " polls at least every "
					+ pollInterval.toMillis() + " ms (max.poll.interval.ms), and a record refused for now (its"
					+ " duplicate in progress, the store out of reach) holds its thread for up to " + longest.toMillis()
					+ " ms (idempotency.in-progress-retry-after, store-unavailable-retry-after) before it is tried"
					+ " again: the consumer would leave its group on every attempt. Shorten the pauses, or raise"
					+ " max.poll.interval.ms");
		}
	}

	// As the consumer is made: the container's own consumer properties override the
	// factory's.
	private static Duration maxPollInterval(AbstractMessageListenerContainer<?, ?> container) {
		Object value = container.getContainerProperties()
			.getKafkaConsumerProperties()
			.get(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG);
		if (value == null && consumerFactory(container) instanceof ConsumerFactory<?, ?> factory) {
			try {
				value = factory.getConfigurationProperties().get(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG);
			}
			// A factory that does not tell its configuration.
			catch (UnsupportedOperationException ex) {
				value = null;
			}
		}
		try {
			return Duration.ofMillis((value != null) ? Long.parseLong(value.toString().trim()) : DEFAULT_POLL_INTERVAL);
		}
		catch (NumberFormatException ex) {
			return Duration.ofMillis(DEFAULT_POLL_INTERVAL);
		}
	}

	// Kept in a field of the container's own, which it offers no getter for.
	private static @Nullable Object consumerFactory(AbstractMessageListenerContainer<?, ?> container) {
		try {
			return new DirectFieldAccessor(container).getPropertyValue("consumerFactory");
		}
		catch (BeansException ex) {
			return null;
		}
	}

	private static void warnOfSeeks(MessageListenerContainer container, String handler, String advice) {
		logger.warn("Kafka listener container " + container.getListenerId() + " commits offsets out of order (its"
				+ " listener returns a future, or it has async acks), and " + handler + " seeks after an error:"
				+ " Spring Kafka then stops fetching the partition of any record whose listener threw, one whose"
				+ " duplicate is in progress included. " + advice);
	}

	// As the container decides it when it starts: a listener that returns a future (or
	// a Mono), or async acks, have offsets acknowledged as they complete, in whatever
	// order they do.
	static boolean commitsOutOfOrder(ContainerProperties properties) {
		return properties.isAsyncAcks()
				|| (properties.getMessageListener() instanceof AsyncRepliesAware listener && listener.isAsyncReplies());
	}

	// A container takes any PlatformTransactionManager too, through the property
	// Spring Kafka deprecates.
	@SuppressWarnings("removal")
	static boolean isTransactional(ContainerProperties properties) {
		return properties.getKafkaAwareTransactionManager() != null || properties.getTransactionManager() != null;
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
		int phase = Math.min(this.registry.getObject().getPhase(), AbstractMessageListenerContainer.DEFAULT_PHASE);
		return (phase > Integer.MIN_VALUE) ? phase - 1 : phase;
	}

}
