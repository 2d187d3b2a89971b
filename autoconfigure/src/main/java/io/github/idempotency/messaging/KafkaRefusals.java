package io.github.idempotency.messaging;

import java.util.Map;

import io.github.idempotency.IdempotencyKeyReusedException;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.IdempotentResultNotKeptException;
import io.github.idempotency.InvalidIdempotencyKeyException;
import io.github.idempotency.UnreadableRecordException;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.springframework.kafka.KafkaException;
import org.springframework.kafka.listener.ExceptionClassifier;
import org.springframework.kafka.listener.FailedRecordProcessor;

/**
 * What the starter's error handler and after-rollback processor both tell Spring Kafka's
 * about refusals.
 */
final class KafkaRefusals {

	private KafkaRefusals() {
	}

	/**
	 * Makes the refusals that retrying cannot help (a key reused with another payload, a
	 * missing key, a result that was not kept) not retryable on the application's handler
	 * or processor, where it classifies exceptions.
	 */
	static void notRetryableOn(Object applicationHandler) {
		if (applicationHandler instanceof ExceptionClassifier classifier) {
			classifier.addNotRetryableExceptions(IdempotencyKeyReusedException.class,
					InvalidIdempotencyKeyException.class, IdempotentResultNotKeptException.class);
		}
	}

	/**
	 * Has a handler or processor of the starter's retry only a refusal, whatever else its
	 * causes hold.
	 */
	static <T extends FailedRecordProcessor> T retryingOnlyRefusals(T processor) {
		processor.setClassifications(Map.of(IdempotentCallInProgressException.class, true,
				IdempotencyStoreException.class, true, UnreadableRecordException.class, false), false);
		return processor;
	}

	/**
	 * The recoverer of a record that was never processed: recovering it would commit its
	 * offset, so throwing seeks it back instead.
	 */
	static void neverRecovered(ConsumerRecord<?, ?> record, Exception failure) {
		throw new KafkaException("Not processed yet, delivered again: " + failure.getMessage(), failure);
	}

}
