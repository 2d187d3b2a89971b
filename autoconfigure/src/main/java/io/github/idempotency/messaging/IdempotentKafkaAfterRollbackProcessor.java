package io.github.idempotency.messaging;

import java.time.Duration;
import java.util.List;

import io.github.idempotency.IdempotencyException;
import io.github.idempotency.IdempotentCallInProgressException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;

import org.springframework.kafka.listener.AfterRollbackProcessor;
import org.springframework.kafka.listener.ContainerProperties.EOSMode;
import org.springframework.kafka.listener.DefaultAfterRollbackProcessor;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.util.backoff.FixedBackOff;

/**
 * The after-rollback processor of a transactional Kafka listener container (one with a
 * transaction manager) that knows what an idempotent listener's refusals mean, as
 * {@link IdempotentKafkaErrorHandler} is for the container's error handler. After the
 * transaction of a record whose duplicate is still being processed, or that the
 * idempotency store could not check, rolls back, the record is sought back and tried
 * again with a fixed back-off for as long as it takes, and never recovered: recovering it
 * would commit its offset although it was never processed. Every other rollback goes to
 * the application's processor, which makes a key reused with another payload, a missing
 * key and a result that was not kept not retryable where it classifies exceptions.
 *
 * <p>
 * The auto-configuration gives one to every transactional listener container before it
 * starts. Wrap the processor of a container created later in one yourself.
 *
 * @since 0.1.0
 */
public class IdempotentKafkaAfterRollbackProcessor implements AfterRollbackProcessor<Object, Object> {

	private final AfterRollbackProcessor<Object, Object> applicationProcessor;

	private final DefaultAfterRollbackProcessor<Object, Object> inProgress;

	private final DefaultAfterRollbackProcessor<Object, Object> storeUnavailable;

	/**
	 * Wraps a processor, and makes the refusals that retrying cannot help not retryable
	 * on it where it classifies exceptions.
	 * @param applicationProcessor the processor every other rollback goes to; a container
	 * uses a {@link DefaultAfterRollbackProcessor} with its defaults unless given another
	 * @param inProgressRetryAfter how long to wait before a record whose duplicate is in
	 * progress is tried again
	 * @param storeUnavailableRetryAfter how long to wait before a record the store could
	 * not check is tried again
	 */
	@SuppressWarnings("unchecked")
	public IdempotentKafkaAfterRollbackProcessor(AfterRollbackProcessor<?, ?> applicationProcessor,
			Duration inProgressRetryAfter, Duration storeUnavailableRetryAfter) {
		KafkaRefusals.notRetryableOn(applicationProcessor);
		// Records reach it as the container holds them, whatever its type parameters say.
		this.applicationProcessor = (AfterRollbackProcessor<Object, Object>) applicationProcessor;
		this.inProgress = retryingForever(inProgressRetryAfter);
		this.storeUnavailable = retryingForever(storeUnavailableRetryAfter);
	}

	/**
	 * The processor every rollback other than that of a duplicate in progress or of a
	 * store that did not answer goes to.
	 * @return the application's processor
	 */
	public AfterRollbackProcessor<Object, Object> getApplicationProcessor() {
		return this.applicationProcessor;
	}

	private static DefaultAfterRollbackProcessor<Object, Object> retryingForever(Duration interval) {
		return KafkaRefusals.retryingOnlyRefusals(new DefaultAfterRollbackProcessor<>(KafkaRefusals::neverRecovered,
				new FixedBackOff(interval.toMillis(), FixedBackOff.UNLIMITED_ATTEMPTS)));
	}

	private AfterRollbackProcessor<Object, Object> processorFor(Exception exception) {
		IdempotencyException refusal = Refusals.notYetProcessed(exception);
		if (refusal == null) {
			return this.applicationProcessor;
		}
		return (refusal instanceof IdempotentCallInProgressException) ? this.inProgress : this.storeUnavailable;
	}

	@Override
	public void process(List<ConsumerRecord<Object, Object>> records, Consumer<Object, Object> consumer,
			MessageListenerContainer container, Exception exception, boolean recoverable, EOSMode eosMode) {
		processorFor(exception).process(records, consumer, container, exception, recoverable, eosMode);
	}

	@Override
	public void processBatch(ConsumerRecords<Object, Object> records, List<ConsumerRecord<Object, Object>> recordList,
			Consumer<Object, Object> consumer, MessageListenerContainer container, Exception exception,
			boolean recoverable, EOSMode eosMode) {
		processorFor(exception).processBatch(records, recordList, consumer, container, exception, recoverable, eosMode);
	}

	@Override
	public void clearThreadState() {
		this.applicationProcessor.clearThreadState();
		this.inProgress.clearThreadState();
		this.storeUnavailable.clearThreadState();
	}

	// Whether recovering runs in a transaction of its own is the application's
	// processor's to say: the refusals are never recovered.
	@Override
	public boolean isProcessInTransaction() {
		return this.applicationProcessor.isProcessInTransaction();
	}

}
