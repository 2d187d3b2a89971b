package io.github.idempotency.messaging;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import org.springframework.kafka.KafkaException;
import org.springframework.kafka.listener.BatchListenerFailedException;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * How {@link KafkaBatch} names the record that failed to the container.
 */
class KafkaBatchTests {

	// The container finds a record by its topic, partition and offset: a listener that
	// sorted the batch must not make it commit records that were never processed.
	@Test
	void failedRecordOfABatchInAnotherOrderShouldBeNamedItself() {
		List<ConsumerRecord<String, String>> batch = new ArrayList<>(
				List.of(record(0, "b"), record(1, "fail"), record(2, "a")));
		batch.sort(Comparator.comparing(ConsumerRecord::value));
		assertThatExceptionOfType(BatchListenerFailedException.class)
			.isThrownBy(() -> KafkaBatch.forEachRecord(batch, KafkaBatchTests::book))
			.satisfies((ex) -> {
				assertThat(ex.getRecord()).isSameAs(batch.get(2));
				assertThat(ex.getRecord().offset()).isEqualTo(1);
			});
	}

	@Test
	void failedPayloadShouldBeNamedByItsIndex() {
		assertThatExceptionOfType(BatchListenerFailedException.class)
			.isThrownBy(() -> KafkaBatch.forEachRecord(List.of("a", "fail", "b"), KafkaBatchTests::book))
			.satisfies((ex) -> assertThat(ex.getIndex()).isEqualTo(1));
	}

	// The records before the failed one did their work in the transaction the failure
	// rolls back: naming the failed record would have the container commit them.
	@Test
	void failureWithinATransactionShouldNameNoRecord() {
		TransactionSynchronizationManager.setActualTransactionActive(true);
		try {
			assertThatIllegalStateException()
				.isThrownBy(() -> KafkaBatch.forEachRecord(List.of("a", "fail", "b"), KafkaBatchTests::book))
				.withMessage("The ledger is busy");
			assertThatExceptionOfType(KafkaException.class)
				.isThrownBy(() -> KafkaBatch.forEachRecord(List.of("a", "b"), (record) -> {
					throw new IOException("The ledger is offline");
				}))
				.withMessage("Record 0 of the batch failed: The ledger is offline")
				.withCauseInstanceOf(IOException.class);
		}
		finally {
			TransactionSynchronizationManager.setActualTransactionActive(false);
		}
	}

	private static void book(Object record) {
		Object value = (record instanceof ConsumerRecord<?, ?> consumerRecord) ? consumerRecord.value() : record;
		if ("fail".equals(value)) {
			throw new IllegalStateException("The ledger is busy");
		}
	}

	private static ConsumerRecord<String, String> record(long offset, String value) {
		return new ConsumerRecord<>("payments", 0, offset, "key", value);
	}

}
