package io.github.idempotency.method;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.observation.MeterRegistryOutcomeListener;
import io.github.idempotency.test.RedisTestServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Import;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;
import org.springframework.transaction.TransactionSystemException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * Records in Redis: kept once the caller's transaction has committed. Leases are renewed
 * for at most 2.25 s.
 */
@ExtendWith(OutputCaptureExtension.class)
@Import(SimpleMeterRegistry.class)
@TestPropertySource(properties = "idempotency.lock-renewal.max-duration=2250ms")
class RedisRecordTransactionalMethodTests extends AbstractTransactionalMethodTests {

	@Autowired
	MeterRegistry meters;

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
	}

	// Renewed for the call made again from when it was made: the failed call's lease,
	// no longer renewed past its 2.25 s, would lapse while the call made again runs, and
	// a duplicate from elsewhere would run beside it.
	@Test
	void callMadeAgainShouldHaveItsLeaseRenewedFromWhenItWasMade() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			assertThatIllegalStateException()
				.isThrownBy(() -> this.ledger.bookSlowlyFailingOnce(this.key, 100, Duration.ofMillis(2400)));
			CompletableFuture<Integer> duplicate = CompletableFuture.supplyAsync(() -> {
				try {
					return this.ledger.bookSlowlyFailingOnce(this.key, 100, Duration.ZERO);
				}
				catch (InterruptedException ex) {
					throw new IllegalStateException(ex);
				}
			}, CompletableFuture.delayedExecutor(1350, TimeUnit.MILLISECONDS));
			try {
				assertThat(this.ledger.bookSlowlyFailingOnce(this.key, 100, Duration.ofMillis(1650))).isEqualTo(1);
			}
			catch (InterruptedException ex) {
				throw new IllegalStateException(ex);
			}
			assertThatExceptionOfType(CompletionException.class).isThrownBy(duplicate::join)
				.withCauseInstanceOf(IdempotentCallInProgressException.class);
		});
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 2);
	}

	@Test
	void callMadeAgainShouldCountAsExecutedAndTheOneThatFailedAsReleased() {
		double executed = count("executed");
		double released = count("released");
		this.transactions.executeWithoutResult((status) -> {
			assertThatIllegalStateException().isThrownBy(() -> this.ledger.bookFailingOnce(this.key, 100));
			assertThat(this.ledger.bookFailingOnce(this.key, 100)).isEqualTo(1);
		});
		assertThat(count("executed")).isEqualTo(executed + 2);
		assertThat(count("released")).isEqualTo(released + 1);
	}

	// The key handed back to the call that failed is released when the transaction ends
	// by the claim whose lease is renewed, which stops renewing it: renewed on, it would
	// find the key gone and report its lease lost.
	@Test
	void keyHandedBackByASavepointShouldBeReleasedByTheClaimThatRenewsIt() throws InterruptedException {
		String operation = "Ledger#bookSlowlyFailingOnce";
		double released = count(operation, "released");
		double leaseLost = count(operation, "lease_lost");
		this.transactions.executeWithoutResult((status) -> {
			try {
				assertThatIllegalStateException()
					.isThrownBy(() -> this.ledger.bookSlowlyFailingOnce(this.key, 100, Duration.ZERO));
				Object savepoint = status.createSavepoint();
				assertThat(this.ledger.bookSlowlyFailingOnce(this.key, 100, Duration.ZERO)).isEqualTo(1);
				status.rollbackToSavepoint(savepoint);
			}
			catch (InterruptedException ex) {
				throw new IllegalStateException(ex);
			}
		});
		// Past two renewal intervals of its 900 ms lease.
		Thread.sleep(700);
		assertThat(count(operation, "released")).isEqualTo(released + 2);
		assertThat(count(operation, "lease_lost")).isEqualTo(leaseLost);
	}

	// The commit lands, but its answer never arrives: the booking may or may not have
	// committed, so the key is held, neither replayed nor run again, until the lock
	// timeout passes.
	@Test
	void methodWhoseCommitsAnswerWasLostShouldHoldItsKey(CapturedOutput output) throws InterruptedException {
		int before = this.ledger.runs();
		LosingCommitReplies.loseTheNextReply();
		assertThatExceptionOfType(TransactionSystemException.class)
			.isThrownBy(() -> this.ledger.bookInOwnTransaction(this.key, 100, Duration.ZERO));
		assertThatExceptionOfType(IdempotentCallInProgressException.class)
			.isThrownBy(() -> this.ledger.bookInOwnTransaction(this.key, 100, Duration.ZERO));
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
		assertThat(output).contains("ended in an unknown state; its key stays claimed until the lock timeout passes");
	}

	// JPA's transaction manager, once Hibernate's commit failed for a broken connection,
	// finds nothing to roll back and reports a rollback: the commit's outcome is no
	// better known for it.
	@Test
	void methodWhoseCommitsAnswerWasLostAndReportedAsARollbackShouldHoldItsKey() throws InterruptedException {
		int before = this.ledger.runs();
		LosingCommitReplies.loseTheNextReplyReportingARollback();
		assertThatExceptionOfType(DataAccessResourceFailureException.class)
			.isThrownBy(() -> this.ledger.bookInOwnTransaction(this.key, 100, Duration.ZERO));
		assertThatExceptionOfType(IdempotentCallInProgressException.class)
			.isThrownBy(() -> this.ledger.bookInOwnTransaction(this.key, 100, Duration.ZERO));
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
	}

	// Retry advice between the idempotency advice and the transaction advice: the first
	// attempt rolls back, the second's commit answer is lost. The attempt that counts
	// is the last.
	@Test
	void retriedMethodWhoseLastCommitsAnswerWasLostShouldHoldItsKey() {
		int before = this.ledger.runs();
		LosingCommitReplies.loseTheNextReply();
		assertThatExceptionOfType(TransactionSystemException.class)
			.isThrownBy(() -> this.ledger.bookRetriedAfterFailingOnce(this.key, 100));
		assertThatExceptionOfType(IdempotentCallInProgressException.class)
			.isThrownBy(() -> this.ledger.bookRetriedAfterFailingOnce(this.key, 100));
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 2);
	}

	// A transaction of its own begun inside the caller's: its commit is the method's,
	// whatever the caller's transaction does after.
	@Test
	void methodWithATransactionOfItsOwnInsideAnotherWhoseCommitsAnswerWasLostShouldHoldItsKey() {
		int before = this.ledger.runs();
		LosingCommitReplies.loseTheNextReply();
		this.transactions.executeWithoutResult((status) -> assertThatExceptionOfType(TransactionSystemException.class)
			.isThrownBy(() -> this.ledger.bookAlone(this.key, 100)));
		assertThatExceptionOfType(IdempotentCallInProgressException.class)
			.isThrownBy(() -> this.ledger.bookAlone(this.key, 100));
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
	}

	// The method makes that failure final: kept and thrown again, as its author asked,
	// rather than held until the lock timeout and run again after.
	@Test
	void methodWhoseCommitFailureIsFinalShouldKeepItWhenTheAnswerWasLost() {
		int before = this.ledger.runs();
		LosingCommitReplies.loseTheNextReply();
		assertThatExceptionOfType(TransactionSystemException.class)
			.isThrownBy(() -> this.ledger.bookInOwnTransactionFailingForGood(this.key, 100));
		assertThatExceptionOfType(TransactionSystemException.class)
			.isThrownBy(() -> this.ledger.bookInOwnTransactionFailingForGood(this.key, 100))
			.withMessageContaining("The connection broke before the commit's answer arrived");
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
	}

	// A commit the database refused for certain rolled the booking back: the call can
	// run again at once.
	@Test
	void methodWhoseCommitWasRefusedShouldRunAgain() throws InterruptedException {
		int before = this.ledger.runs();
		LosingCommitReplies.refuseTheNextCommit();
		assertThatExceptionOfType(DataIntegrityViolationException.class)
			.isThrownBy(() -> this.ledger.bookInOwnTransaction(this.key, 100, Duration.ZERO));
		assertThat(bookings()).isZero();
		assertThat(this.ledger.bookInOwnTransaction(this.key, 100, Duration.ZERO)).isEqualTo(1);
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 2);
	}

	private double count(String outcome) {
		return count(Ledger.FAILING_ONCE, outcome);
	}

	private double count(String operation, String outcome) {
		return this.meters.counter(MeterRegistryOutcomeListener.METER_NAME, "operation", operation, "outcome", outcome)
			.count();
	}

}
