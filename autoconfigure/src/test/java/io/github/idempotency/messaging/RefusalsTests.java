package io.github.idempotency.messaging;

import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.IdempotentOutcomeNotStoredException;
import io.github.idempotency.UnreadableRecordException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which failures mean a message was not processed yet.
 */
class RefusalsTests {

	@Test
	void refusalAnywhereInTheCausesShouldBeFound() {
		IdempotentCallInProgressException inProgress = new IdempotentCallInProgressException("running");
		IdempotencyStoreException down = new IdempotencyStoreException("down");
		assertThat(Refusals.notYetProcessed(new IllegalStateException(new RuntimeException(inProgress))))
			.isSameAs(inProgress);
		assertThat(Refusals.notYetProcessed(down)).isSameAs(down);
		assertThat(Refusals.notYetProcessed(new UnreadableRecordException("record", "corrupt", null))).isNull();
		// The listener ran: the store failed to keep its outcome within the transaction.
		assertThat(
				Refusals.notYetProcessed(new IllegalStateException(new IdempotentOutcomeNotStoredException("not stored",
						new IdempotencyStoreException("the database failed")))))
			.isNull();
		assertThat(Refusals.notYetProcessed(new IllegalStateException("bug"))).isNull();
	}

	// Throwable refuses only a cause that is itself; a longer cycle can be made, and
	// must not hold the consumer's thread for ever.
	@Test
	@Timeout(5)
	void causesThatFormACycleShouldEnd() {
		RuntimeException first = new RuntimeException("first");
		RuntimeException second = new RuntimeException("second", first);
		first.initCause(second);
		assertThat(Refusals.notYetProcessed(first)).isNull();
	}

}
