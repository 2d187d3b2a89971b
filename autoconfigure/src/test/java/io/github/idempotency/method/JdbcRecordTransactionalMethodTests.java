package io.github.idempotency.method;

import java.time.Duration;

import io.github.idempotency.IdempotentOutcomeNotStoredException;
import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.method.AbstractTransactionalMethodTests.Ledger;
import io.github.idempotency.method.AbstractTransactionalMethodTests.Refused;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.test.context.TestPropertySource;
import org.springframework.transaction.TransactionSystemException;
import org.springframework.transaction.UnexpectedRollbackException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Records in the same PostgreSQL, completed within the transaction: the record commits
 * with the booking or not at all, also for a method whose transaction is its own.
 */
@ExtendWith(OutputCaptureExtension.class)
@TestPropertySource(properties = { "idempotency.store=jdbc", "idempotency.jdbc.table-name=tx_test_record",
		"idempotency.jdbc.initialize-schema=always", "idempotency.jdbc.complete-in-transaction=true",
		"idempotency.lock-timeout=1s", "idempotency.lock-renewal.enabled=false" })
class JdbcRecordTransactionalMethodTests extends AbstractTransactionalMethodTests {

	@Test
	void methodWithItsOwnTransactionShouldStoreItsResultInIt() throws InterruptedException {
		int before = this.ledger.runs();
		assertThat(this.ledger.bookInOwnTransaction(this.key, 100, Duration.ZERO)).isEqualTo(1);
		assertThat(this.ledger.bookInOwnTransaction(this.key, 100, Duration.ZERO)).isEqualTo(1);
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
	}

	// The commit lands, but its answer never arrives: the record committed with the
	// booking, and a retry replays it.
	@Test
	void methodWhoseCommitsAnswerWasLostShouldBeReplayed() throws InterruptedException {
		int before = this.ledger.runs();
		LosingCommitReplies.loseTheNextReply();
		assertThatExceptionOfType(TransactionSystemException.class)
			.isThrownBy(() -> this.ledger.bookInOwnTransaction(this.key, 100, Duration.ZERO));
		assertThat(this.ledger.bookInOwnTransaction(this.key, 100, Duration.ZERO)).isEqualTo(1);
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
	}

	// The lease runs out while the method runs, with renewal off: its record can no
	// longer be stored, so its booking must not commit either, and a retry books once.
	@Test
	void bookingWhoseRecordCannotBeStoredShouldRollBack() throws InterruptedException {
		assertThatExceptionOfType(IdempotentOutcomeNotStoredException.class)
			.isThrownBy(() -> this.ledger.bookInOwnTransaction(this.key, 100, Duration.ofMillis(1500)))
			.withMessageContaining("the transaction rolls back");
		assertThat(bookings()).isZero();
		assertThat(this.ledger.bookInOwnTransaction(this.key, 100, Duration.ZERO)).isEqualTo(1);
		assertThat(bookings()).isOne();
	}

	// A failure that recurs on every call (here a trigger of the application's): the
	// transaction rolls back and the key is released, and the failure says the call ran.
	@Test
	void bookingWhoseRecordTheDatabaseRefusesShouldRollBack() throws InterruptedException {
		String recordKey = Hashing.recordKey(
				Ledger.class.getName() + "#bookInOwnTransaction(java.lang.String,long,java.time.Duration)", this.key);
		this.jdbc.execute("CREATE OR REPLACE FUNCTION tx_test_refuse() RETURNS trigger AS $$ BEGIN"
				+ " IF NEW.completed_at IS NOT NULL AND NEW.record_key = '" + recordKey + "' THEN"
				+ " RAISE EXCEPTION 'refused by the application'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql");
		this.jdbc.execute("CREATE TRIGGER tx_test_refuse BEFORE UPDATE ON tx_test_record FOR EACH ROW"
				+ " EXECUTE FUNCTION tx_test_refuse()");
		int before = this.ledger.runs();
		try {
			for (int call = 1; call <= 2; call++) {
				assertThatExceptionOfType(IdempotentOutcomeNotStoredException.class)
					.isThrownBy(() -> this.ledger.bookInOwnTransaction(this.key, 100, Duration.ZERO))
					.withMessageContaining("refused by the application");
				assertThat(bookings()).isZero();
			}
		}
		finally {
			this.jdbc.execute("DROP TRIGGER IF EXISTS tx_test_refuse ON tx_test_record");
		}
		assertThat(this.ledger.runs()).isEqualTo(before + 2);
		assertThat(this.ledger.bookInOwnTransaction(this.key, 100, Duration.ZERO)).isEqualTo(1);
		assertThat(bookings()).isOne();
	}

	@Test
	void methodWithAdviceBeforeItsTransactionShouldBeKeptAfterTheCommitAndSaySo(CapturedOutput output) {
		int before = this.ledger.runs();
		assertThat(this.ledger.bookAudited(this.key, 100)).isEqualTo(1);
		assertThat(this.ledger.bookAudited(this.key, 100)).isEqualTo(1);
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
		assertThat(output).contains("Ledger#bookAudited is @Transactional, but", "runs between its idempotency advice"
				+ " and its transaction; its outcome is stored once the transaction has committed");
	}

	@Test
	void finalExceptionShouldBeKeptWithTheBookingItCommitted() {
		int before = this.ledger.runs();
		assertThatExceptionOfType(Refused.class).isThrownBy(() -> this.ledger.bookThenRefuse(this.key, 100));
		assertThatExceptionOfType(Refused.class).isThrownBy(() -> this.ledger.bookThenRefuse(this.key, 100))
			.withMessage("booked, and refused: a checked exception, which commits");
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
	}

	// The operation asks for the outcome after the commit, whatever the configuration:
	// the lease lost, the booking commits all the same and its record is not kept.
	@Test
	void operationStoringAfterCommitShouldCommitItsWritesWhateverBecomesOfItsRecord(CapturedOutput output)
			throws InterruptedException {
		assertThat(this.ledger.bookThenStoreAfterCommit(this.key, 100, Duration.ofMillis(1500))).isEqualTo(1);
		assertThat(bookings()).isOne();
		assertThat(output).contains("was lost before the outcome was stored");
	}

	// The method's transaction is begun early, around its own transaction advice, which
	// then takes part in it: a rollback the method asks for marks the whole transaction,
	// as a participant's failure does, and the two cannot be told apart. So the caller
	// learns of the rollback (where without the starter the method would return), and
	// the key is released.
	@Test
	void methodRollingBackItsOwnTransactionShouldFailAndRunAgain() {
		int before = this.ledger.runs();
		assertThatExceptionOfType(UnexpectedRollbackException.class)
			.isThrownBy(() -> this.ledger.bookThenRollBack(this.key, 100));
		assertThat(bookings()).isZero();
		assertThatExceptionOfType(UnexpectedRollbackException.class)
			.isThrownBy(() -> this.ledger.bookThenRollBack(this.key, 100));
		assertThat(this.ledger.runs()).isEqualTo(before + 2);
	}

}
