package io.github.idempotency.messaging;

import java.time.Duration;

import io.github.idempotency.IdempotencyException;
import io.github.idempotency.IdempotencyKeyReusedException;
import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.IdempotentResultNotKeptException;
import io.github.idempotency.InvalidIdempotencyKeyException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.util.backoff.BackOff;
import org.springframework.util.backoff.FixedBackOff;

/**
 * Teaches a Spring Kafka {@link DefaultErrorHandler} what an idempotent listener's
 * refusals mean. A record whose duplicate is still being processed (by another consumer
 * after a rebalance, say), or that could not be checked because the idempotency store did
 * not answer, is retried with a fixed back-off for as long as it takes, and never
 * recovered: recovering it would commit its offset although it was not processed. A key
 * reused with another payload, a missing key, or a result that was not kept are not
 * retried: the record goes to the handler's recoverer (a dead-letter topic, where one is
 * configured) at once.
 *
 * <p>
 * The auto-configuration applies it to every {@code DefaultErrorHandler} bean, and
 * defines one for Spring Boot's listener container factory where the application has
 * none. Call {@link #configure} on a handler built otherwise.
 *
 * @since 0.1.0
 */
public class KafkaErrorHandlerConfigurer {

	private final BackOff inProgress;

	private final BackOff storeUnavailable;

	/**
	 * @param inProgressRetryAfter how long to wait before a record whose duplicate is in
	 * progress is tried again
	 * @param storeUnavailableRetryAfter how long to wait before a record the store could
	 * not check is tried again
	 */
	public KafkaErrorHandlerConfigurer(Duration inProgressRetryAfter, Duration storeUnavailableRetryAfter) {
		this.inProgress = new FixedBackOff(inProgressRetryAfter.toMillis(), FixedBackOff.UNLIMITED_ATTEMPTS);
		this.storeUnavailable = new FixedBackOff(storeUnavailableRetryAfter.toMillis(),
				FixedBackOff.UNLIMITED_ATTEMPTS);
	}

	/**
	 * Classifies the idempotency exceptions on the handler and sets its back-off
	 * function, replacing any set before; a handler that needs a function of its own can
	 * ask {@link #backOff} first.
	 * @param handler the handler to configure
	 */
	public void configure(DefaultErrorHandler handler) {
		handler.addNotRetryableExceptions(IdempotencyKeyReusedException.class, InvalidIdempotencyKeyException.class,
				IdempotentResultNotKeptException.class);
		handler.setBackOffFunction(this::backOff);
	}

	/**
	 * The back-off for a record that failed: unlimited, for a record that was not
	 * processed because its duplicate is in progress or the store did not answer.
	 * @param record the record
	 * @param failure what the listener threw
	 * @return the back-off, or {@code null} for the handler's own
	 */
	public @Nullable BackOff backOff(ConsumerRecord<?, ?> record, Exception failure) {
		IdempotencyException refusal = Refusals.notYetProcessed(failure);
		if (refusal == null) {
			return null;
		}
		return (refusal instanceof IdempotentCallInProgressException) ? this.inProgress : this.storeUnavailable;
	}

}
