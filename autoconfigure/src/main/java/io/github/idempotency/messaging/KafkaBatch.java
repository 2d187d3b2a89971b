package io.github.idempotency.messaging;

import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.springframework.kafka.KafkaException;
import org.springframework.kafka.listener.BatchListenerFailedException;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Processes the records of a Kafka batch listener one at a time, each typically through
 * an {@code @Idempotent} method keyed by the record, and reports the first that fails:
 * the container then commits the records before it, which are not processed again, and
 * hands the failed record to its error handler as it would a record listener's. A record
 * whose duplicate is still in progress is retried until it can be replayed, and a reused
 * key goes to the recoverer, as for a record listener (see
 * {@link IdempotentKafkaErrorHandler}).
 * <p>
 * Called within a transaction Spring synchronizes (a {@code @Transactional} listener, or
 * a {@code TransactionTemplate} around the loop), the records before the failed one did
 * their work in that transaction, which the failure rolls back: then it reports no record
 * but the failure itself, so that the container retries the whole batch rather than
 * commit records whose work was undone. The records that ran before replay where their
 * outcome was kept, and run again where it was released with the rollback. A container's
 * Kafka transaction is not synchronized, and there the failed record is named as outside
 * a transaction.
 *
 * <pre class="code">
 * &#64;KafkaListener(topics = "payments.captured", batch = "true")
 * void bookAll(List&lt;PaymentCaptured&gt; events) {
 *     KafkaBatch.forEachRecord(events, ledger::book);
 * }
 * </pre>
 *
 * @since 0.1.0
 */
public final class KafkaBatch {

	private KafkaBatch() {
	}

	/**
	 * Runs an action on each record of a batch, in order, and stops at the first that
	 * fails.
	 * @param <T> the type of the batch's elements: records, messages or payloads
	 * @param batch the batch the listener was called with; a list of payloads or messages
	 * in the order the container delivered it, a list of {@code ConsumerRecord}s in any
	 * order
	 * @param action what to do with each record
	 * @throws BatchListenerFailedException naming the record that failed (a
	 * {@code ConsumerRecord} itself, anything else by its index) with its exception as
	 * the cause; one the action throws itself passes unchanged
	 * @throws RuntimeException within a synchronized transaction: the unchecked exception
	 * of the record that failed itself, a checked one in a {@code KafkaException}
	 */
	public static <T> void forEachRecord(List<T> batch, RecordAction<? super T> action) {
		for (int index = 0; index < batch.size(); index++) {
			try {
				action.process(batch.get(index));
			}
			catch (BatchListenerFailedException ex) {
				throw ex;
			}
			catch (Exception ex) {
				if (ex instanceof InterruptedException) {
					// The container is stopping: let it see that it was asked to.
					Thread.currentThread().interrupt();
				}
				String message = "Record " + index + " of the batch failed: " + ex.getMessage();
				if (TransactionSynchronizationManager.isActualTransactionActive()) {
					throw (ex instanceof RuntimeException unchecked) ? unchecked : new KafkaException(message, ex);
				}
				// A record names itself, in whatever order the listener passed the batch;
				// payloads are known by their place in the batch the container delivered.
				throw (batch.get(index) instanceof ConsumerRecord<?, ?> record)
						? new BatchListenerFailedException(message, ex, record)
						: new BatchListenerFailedException(message, ex, index);
			}
		}
	}

	/**
	 * What to do with one record of a batch.
	 *
	 * @param <T> the type of the batch's elements
	 */
	@FunctionalInterface
	public interface RecordAction<T> {

		/**
		 * Processes one record.
		 * @param record the record
		 * @throws Exception when the record could not be processed
		 */
		void process(T record) throws Exception;

	}

}
