package io.github.idempotency.messaging;

import java.time.Duration;
import java.util.Collection;
import java.util.List;

import io.github.idempotency.IdempotencyException;
import io.github.idempotency.IdempotentCallInProgressException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;

import org.springframework.kafka.KafkaException;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.kafka.support.TopicPartitionOffset;
import org.springframework.util.backoff.FixedBackOff;

/**
 * A Kafka listener container's error handler that knows what an idempotent listener's
 * refusals mean. A record whose duplicate is still being processed (by another consumer
 * after a rebalance, say), or that could not be checked because the idempotency store did
 * not answer, was not processed: it is retried with a fixed back-off for as long as it
 * takes, and never recovered, since recovering it would commit its offset. Every other
 * failure goes to the application's own handler, whatever its back-off, retry
 * classification or recoverer. Where that handler classifies exceptions (a
 * {@link DefaultErrorHandler} does), a key reused with another payload, a missing key and
 * a result that was not kept are made not retryable, so that such a record goes to its
 * recoverer (a dead-letter topic, where one is configured) at once.
 *
 * <p>
 * Everything else about handling errors is the application's handler's: whether it seeks
 * or retries in memory, acknowledges after handling, counts delivery attempts. But in a
 * container that commits offsets out of order (its listener returns a future, or it has
 * async acks), which stops fetching a partition until every record of the poll is
 * acknowledged, a seek would stop it for good: there refusals are retried in memory, and
 * whatever else a record listener throws goes to the application handler's
 * {@code handleOne}. The auto-configuration gives one to every listener container before
 * it starts. Wrap the handler of a container created later in one yourself.
 *
 * @since 0.1.0
 */
public class IdempotentKafkaErrorHandler implements CommonErrorHandler {

	private final CommonErrorHandler applicationHandler;

	private final DefaultErrorHandler inProgress;

	private final DefaultErrorHandler storeUnavailable;

	private final boolean retriesInMemory;

	/**
	 * Wraps a handler, and makes the refusals that retrying cannot help not retryable on
	 * it where it classifies exceptions.
	 * @param applicationHandler the handler every other failure goes to; a container
	 * without one uses a {@link DefaultErrorHandler} with its defaults
	 * @param inProgressRetryAfter how long to wait before a record whose duplicate is in
	 * progress is tried again
	 * @param storeUnavailableRetryAfter how long to wait before a record the store could
	 * not check is tried again
	 */
	public IdempotentKafkaErrorHandler(CommonErrorHandler applicationHandler, Duration inProgressRetryAfter,
			Duration storeUnavailableRetryAfter) {
		this(applicationHandler, inProgressRetryAfter, storeUnavailableRetryAfter, false);
	}

	/**
	 * Wraps a handler, as above, for a container that may commit offsets out of order.
	 * @param applicationHandler the handler every other failure goes to
	 * @param inProgressRetryAfter how long to wait before a record whose duplicate is in
	 * progress is tried again
	 * @param storeUnavailableRetryAfter how long to wait before a record the store could
	 * not check is tried again
	 * @param outOfOrderCommits whether the container commits offsets out of order (its
	 * listener returns a future, or it has async acks): then refusals are retried in
	 * memory, and the application's handler must handle a record in memory
	 * ({@code handleOne}), as a {@link DefaultErrorHandler} does
	 * @since 0.1.0
	 */
	public IdempotentKafkaErrorHandler(CommonErrorHandler applicationHandler, Duration inProgressRetryAfter,
			Duration storeUnavailableRetryAfter, boolean outOfOrderCommits) {
		KafkaRefusals.notRetryableOn(applicationHandler);
		this.applicationHandler = applicationHandler;
		this.retriesInMemory = outOfOrderCommits;
		this.inProgress = retryingForever(inProgressRetryAfter);
		this.storeUnavailable = retryingForever(storeUnavailableRetryAfter);
	}

	/**
	 * The handler every failure other than a duplicate in progress or a store that did
	 * not answer goes to.
	 * @return the application's handler
	 */
	public CommonErrorHandler getApplicationHandler() {
		return this.applicationHandler;
	}

	private DefaultErrorHandler retryingForever(Duration interval) {
		// Never recovers a record: a batch retried in place (a batch listener that does
		// not say which record failed) stops when another failure interrupts the
		// retries, and its recoverer is called then; throwing seeks the batch back, so
		// that the next delivery meets the application's handler.
		DefaultErrorHandler handler = KafkaRefusals.retryingOnlyRefusals(new DefaultErrorHandler(
				KafkaRefusals::neverRecovered, new FixedBackOff(interval.toMillis(), FixedBackOff.UNLIMITED_ATTEMPTS)));
		// Offsets are handled as the application's handler handles them, since the
		// container asks that handler how.
		handler.setSeekAfterError(seeksAfterHandling());
		handler.setAckAfterHandle(this.applicationHandler.isAckAfterHandle());
		return handler;
	}

	// In a transactional container a refusal is left to the after-rollback processor,
	// which the starter wraps too: handled here, it would be retried twice as slowly, and
	// a batch's records before the refused one would be committed outside the
	// transaction that then rolls back.
	private CommonErrorHandler handlerFor(Exception thrown, MessageListenerContainer container) {
		IdempotencyException refusal = Refusals.notYetProcessed(thrown);
		if (refusal == null) {
			return this.applicationHandler;
		}
		if (IdempotentKafkaContainers.isTransactional(container.getContainerProperties())) {
			throw (thrown instanceof RuntimeException unchecked) ? unchecked : new KafkaException(
					"Not processed yet, delivered again after the rollback: " + thrown.getMessage(), thrown);
		}
		return (refusal instanceof IdempotentCallInProgressException) ? this.inProgress : this.storeUnavailable;
	}

	@Override
	public boolean handleOne(Exception thrownException, ConsumerRecord<?, ?> record, Consumer<?, ?> consumer,
			MessageListenerContainer container) {
		return handlerFor(thrownException, container).handleOne(thrownException, record, consumer, container);
	}

	@Override
	public void handleRemaining(Exception thrownException, List<ConsumerRecord<?, ?>> records, Consumer<?, ?> consumer,
			MessageListenerContainer container) {
		handlerFor(thrownException, container).handleRemaining(thrownException, records, consumer, container);
	}

	@Override
	public void handleBatch(Exception thrownException, ConsumerRecords<?, ?> data, Consumer<?, ?> consumer,
			MessageListenerContainer container, Runnable invokeListener) {
		handlerFor(thrownException, container).handleBatch(thrownException, data, consumer, container, invokeListener);
	}

	@Override
	public <K, V> ConsumerRecords<K, V> handleBatchAndReturnRemaining(Exception thrownException,
			ConsumerRecords<?, ?> data, Consumer<?, ?> consumer, MessageListenerContainer container,
			Runnable invokeListener) {
		return handlerFor(thrownException, container).handleBatchAndReturnRemaining(thrownException, data, consumer,
				container, invokeListener);
	}

	@Override
	public void handleOtherException(Exception thrownException, Consumer<?, ?> consumer,
			MessageListenerContainer container, boolean batchListener) {
		handlerFor(thrownException, container).handleOtherException(thrownException, consumer, container,
				batchListener);
	}

	@Override
	public boolean seeksAfterHandling() {
		return !this.retriesInMemory && this.applicationHandler.seeksAfterHandling();
	}

	@Override
	public boolean isAckAfterHandle() {
		return this.applicationHandler.isAckAfterHandle();
	}

	@Override
	public void setAckAfterHandle(boolean ack) {
		this.applicationHandler.setAckAfterHandle(ack);
		this.inProgress.setAckAfterHandle(ack);
		this.storeUnavailable.setAckAfterHandle(ack);
	}

	@Override
	public boolean deliveryAttemptHeader() {
		return this.applicationHandler.deliveryAttemptHeader();
	}

	// The application's handler's count only: retries while a duplicate is in progress
	// are not attempts a listener should count towards giving up.
	@Override
	public int deliveryAttempt(TopicPartitionOffset topicPartitionOffset) {
		return this.applicationHandler.deliveryAttempt(topicPartitionOffset);
	}

	@Override
	public void clearThreadState() {
		this.applicationHandler.clearThreadState();
		this.inProgress.clearThreadState();
		this.storeUnavailable.clearThreadState();
	}

	@Override
	public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions,
			Runnable publishPause) {
		this.applicationHandler.onPartitionsAssigned(consumer, partitions, publishPause);
		this.inProgress.onPartitionsAssigned(consumer, partitions, publishPause);
		this.storeUnavailable.onPartitionsAssigned(consumer, partitions, publishPause);
	}

}
