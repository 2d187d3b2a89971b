package io.github.idempotency.method;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import java.sql.SQLException;

import javax.sql.DataSource;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyKeyReusedException;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.annotation.Idempotent.Completion;
import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.test.PostgresTestServer;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.aop.ProxyMethodInvocation;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionSystemException;
import org.springframework.transaction.UnexpectedRollbackException;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.interceptor.TransactionAspectSupport;
import org.springframework.transaction.support.DefaultTransactionStatus;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionSynchronizationUtils;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * An idempotent method called inside a transaction on PostgreSQL: its outcome counts once
 * the transaction commits, and the call runs again if it rolls back, wherever the record
 * is kept.
 */
@SpringBootTest(classes = AbstractTransactionalMethodTests.LedgerApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE, properties = { "idempotency.key-prefix=tx-test",
				// Liquibase is on the test class path for the store's changelog test
				// only.
				"spring.liquibase.enabled=false" })
abstract class AbstractTransactionalMethodTests {

	@Autowired
	Ledger ledger;

	@Autowired
	JakartaLedger jakartaLedger;

	@Autowired
	InheritedLedger inheritedLedger;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	IdempotencyStore store;

	String key;

	@BeforeEach
	void newKey() {
		this.key = UUID.randomUUID().toString();
	}

	@Test
	void committedCallShouldNeverRunAgainAndShouldBeInProgressUntilCommit() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			this.ledger.book(this.key, 100);
			// Another caller, before the commit: the outcome does not count yet.
			assertThatExceptionOfType(ExecutionException.class).isThrownBy(
					() -> CompletableFuture.supplyAsync(() -> this.ledger.book(this.key, 100)).get(5, TimeUnit.SECONDS))
				.withCauseInstanceOf(IdempotentCallInProgressException.class);
		});
		assertThat(this.ledger.book(this.key, 100)).isEqualTo(1);
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
	}

	// Called while the transaction commits: from a before-commit callback (as a
	// @TransactionalEventListener of that phase is), or from an after-commit one, which
	// Spring still runs within the transaction. The callbacks of the commit were taken
	// before the call registered its own: its outcome must count all the same.
	@ParameterizedTest
	@ValueSource(booleans = { true, false })
	void callMadeWhileTheTransactionCommitsShouldNeverRunAgain(boolean beforeCommit) {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult(
				(status) -> TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
					@Override
					public void beforeCommit(boolean readOnly) {
						if (beforeCommit) {
							AbstractTransactionalMethodTests.this.ledger.book(AbstractTransactionalMethodTests.this.key,
									100);
						}
					}

					@Override
					public void afterCommit() {
						if (!beforeCommit) {
							AbstractTransactionalMethodTests.this.ledger.book(AbstractTransactionalMethodTests.this.key,
									100);
						}
					}
				}));
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
		assertThat(this.ledger.book(this.key, 100)).isEqualTo(1);
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
		if (beforeCommit) {
			assertThat(bookings()).isOne();
		}
	}

	// As a batch of messages that holds one twice is processed in one transaction: the
	// duplicate cannot wait for a commit that comes only once it has returned.
	@Test
	void duplicateInTheSameTransactionShouldReplayTheCallAndCommitWithIt() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			assertThat(this.ledger.book(this.key, 100)).isEqualTo(1);
			assertThat(this.ledger.book(this.key, 100)).isEqualTo(1);
			assertThatExceptionOfType(IdempotencyKeyReusedException.class)
				.isThrownBy(() -> this.ledger.book(this.key, 200));
		});
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
		assertThat(this.ledger.book(this.key, 100)).isEqualTo(1);
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
	}

	@Test
	void duplicateInTheSameTransactionShouldRollBackWithIt() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			this.ledger.book(this.key, 100);
			this.ledger.book(this.key, 100);
			status.setRollbackOnly();
		});
		assertThat(bookings()).isZero();
		assertThat(this.ledger.book(this.key, 100)).isEqualTo(1);
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 2);
	}

	// A rollback to a savepoint taken before the call undoes its writes: kept at the
	// commit, the call would replay what never happened.
	@Test
	void callRolledBackToASavepointShouldNeverBeKept() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			Object savepoint = status.createSavepoint();
			this.ledger.book(this.key, 100);
			status.rollbackToSavepoint(savepoint);
		});
		assertThat(bookings()).isZero();
		assertThat(this.ledger.book(this.key, 100)).isEqualTo(1);
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 2);
	}

	@Test
	void callRolledBackToASavepointShouldRunAgainInTheSameTransaction() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			Object savepoint = status.createSavepoint();
			this.ledger.book(this.key, 100);
			status.rollbackToSavepoint(savepoint);
			assertThat(this.ledger.book(this.key, 100)).isEqualTo(1);
			assertThat(this.ledger.book(this.key, 100)).isEqualTo(1);
		});
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 2);
		assertThat(this.ledger.book(this.key, 100)).isEqualTo(1);
		assertThat(this.ledger.runs()).isEqualTo(before + 2);
	}

	@Test
	void callThatFailedBeforeARollbackToASavepointShouldRunAgainInTheSameTransaction() {
		this.transactions.executeWithoutResult((status) -> {
			Object savepoint = status.createSavepoint();
			assertThatExceptionOfType(IllegalArgumentException.class).isThrownBy(() -> this.ledger.book(this.key, -1));
			status.rollbackToSavepoint(savepoint);
			assertThat(this.ledger.book(this.key, 100)).isEqualTo(1);
		});
		assertThat(bookings()).isOne();
	}

	// As Spring ends its part of a JTA transaction it did not begin: the
	// before-completion
	// callbacks run on this thread, the after-completion ones are handed to JTA, which
	// may run them later on another. Nothing of the transaction may stay with this
	// thread, for the next transaction on it to replay.
	@Test
	void pendingOutcomesShouldLeaveTheThreadBeforeTheTransactionCompletes() throws Exception {
		int before = this.ledger.runs();
		List<TransactionSynchronization> synchronizations;
		TransactionSynchronizationManager.initSynchronization();
		TransactionSynchronizationManager.setActualTransactionActive(true);
		try {
			this.ledger.book(this.key, 100);
			synchronizations = TransactionSynchronizationManager.getSynchronizations();
			TransactionSynchronizationUtils.triggerBeforeCompletion();
		}
		finally {
			TransactionSynchronizationManager.clear();
		}
		CompletableFuture
			.runAsync(() -> TransactionSynchronizationUtils.invokeAfterCompletion(synchronizations,
					TransactionSynchronization.STATUS_ROLLED_BACK))
			.get(10, TimeUnit.SECONDS);
		this.transactions.executeWithoutResult((status) -> this.ledger.book(this.key, 100));
		assertThat(this.ledger.runs()).isEqualTo(before + 2);
	}

	// A transaction of its own commits on its own: it must not build on what the
	// transaction it suspended may still roll back.
	@Test
	void transactionOfItsOwnShouldNotReplayWhatTheSuspendedOneHasNotCommitted() {
		TransactionTemplate own = new TransactionTemplate(this.transactions.getTransactionManager());
		own.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
		this.transactions.executeWithoutResult((status) -> {
			this.ledger.book(this.key, 100);
			assertThatExceptionOfType(IdempotentCallInProgressException.class)
				.isThrownBy(() -> own.executeWithoutResult((inner) -> this.ledger.book(this.key, 100)));
			assertThat(this.ledger.book(this.key, 100)).isEqualTo(1);
		});
		assertThat(bookings()).isOne();
	}

	@Test
	void rolledBackCallShouldRunAgain() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			this.ledger.book(this.key, 100);
			status.setRollbackOnly();
		});
		assertThat(bookings()).isZero();
		assertThat(this.ledger.book(this.key, 100)).isEqualTo(1);
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 2);
	}

	// Its key held until the transaction ends, a call that failed is retried within it
	// (by a retry inside the transaction, or a listener container's retry in its
	// transaction) under that hold, rather than find itself in progress.
	@Test
	void callThatFailedShouldRunAgainWhenRetriedInTheSameTransaction() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			assertThatIllegalStateException().isThrownBy(() -> this.ledger.bookFailingOnce(this.key, 100));
			assertThatExceptionOfType(IdempotencyKeyReusedException.class)
				.isThrownBy(() -> this.ledger.bookFailingOnce(this.key, 200));
			assertThat(this.ledger.bookFailingOnce(this.key, 100)).isEqualTo(1);
			assertThat(this.ledger.bookFailingOnce(this.key, 100)).isEqualTo(1);
		});
		assertThat(this.ledger.bookFailingOnce(this.key, 100)).isEqualTo(1);
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 2);
	}

	// Past its lease, the key of the call that failed may be another call's: the store
	// decides, not the memory of the transaction.
	@Test
	void callThatFailedShouldNotRunAgainInTheSameTransactionOnceItsKeyIsAnotherCalls() {
		int before = this.ledger.runs();
		String recordKey = Hashing.recordKey(Ledger.FAILING_ONCE, this.key);
		this.transactions.executeWithoutResult((status) -> {
			assertThatIllegalStateException().isThrownBy(() -> this.ledger.bookFailingOnce(this.key, 100));
			// Its lease ran out, and a call with other arguments claimed the key.
			this.store.delete(recordKey);
			assertThat(this.store.claim(recordKey, "another-call", Duration.ofSeconds(30)))
				.isInstanceOf(ClaimResult.Claimed.class);
			assertThatExceptionOfType(IdempotencyKeyReusedException.class)
				.isThrownBy(() -> this.ledger.bookFailingOnce(this.key, 100));
		});
		assertThat(bookings()).isZero();
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
	}

	// The store decides for other arguments: the key may no longer be the failed call's.
	@Test
	void callWithOtherArgumentsThanOneThatFailedShouldBeAnsweredByTheStore() {
		this.transactions.executeWithoutResult((status) -> {
			assertThatIllegalStateException().isThrownBy(() -> this.ledger.bookFailingOnce(this.key, 100));
			// Its lease ran out.
			this.store.delete(Hashing.recordKey(Ledger.FAILING_ONCE, this.key));
			assertThat(this.ledger.bookFailingOnce(this.key, 200)).isEqualTo(1);
		});
		assertThat(bookings()).isOne();
	}

	// The call made again is undone, the failed call's writes are not: its key stays
	// held until the transaction ends, and the call can be made again once more.
	@Test
	void callMadeAgainAfterASavepointShouldGiveTheKeyBackToTheCallThatFailedWhenRolledBackToIt() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			assertThatIllegalStateException().isThrownBy(() -> this.ledger.bookFailingOnce(this.key, 100));
			Object savepoint = status.createSavepoint();
			assertThat(this.ledger.bookFailingOnce(this.key, 100)).isEqualTo(1);
			status.rollbackToSavepoint(savepoint);
			assertThatExceptionOfType(ExecutionException.class)
				.isThrownBy(() -> CompletableFuture.supplyAsync(() -> this.ledger.bookFailingOnce(this.key, 100))
					.get(5, TimeUnit.SECONDS))
				.withCauseInstanceOf(IdempotentCallInProgressException.class);
			assertThat(this.ledger.bookFailingOnce(this.key, 100)).isEqualTo(1);
		});
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 3);
		assertThat(this.ledger.bookFailingOnce(this.key, 100)).isEqualTo(1);
		assertThat(this.ledger.runs()).isEqualTo(before + 3);
	}

	// Failed twice, the second time under the first's claim: a savepoint after the
	// second hands the key back to it, not to the first, and the next call takes it
	// over again.
	@Test
	void callThatFailedTwiceShouldHandTheKeyBackToItsLatestFailureWhenRolledBackToASavepointAfterIt() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			assertThatIllegalStateException().isThrownBy(() -> this.ledger.bookFailingTwice(this.key, 100));
			assertThatIllegalStateException().isThrownBy(() -> this.ledger.bookFailingTwice(this.key, 100));
			Object savepoint = status.createSavepoint();
			assertThat(this.ledger.bookFailingTwice(this.key, 100)).isEqualTo(1);
			status.rollbackToSavepoint(savepoint);
			assertThatExceptionOfType(ExecutionException.class)
				.isThrownBy(() -> CompletableFuture.supplyAsync(() -> this.ledger.bookFailingTwice(this.key, 100))
					.get(5, TimeUnit.SECONDS))
				.withCauseInstanceOf(IdempotentCallInProgressException.class);
			assertThat(this.ledger.bookFailingTwice(this.key, 100)).isEqualTo(1);
		});
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 4);
		assertThat(this.ledger.bookFailingTwice(this.key, 100)).isEqualTo(1);
		assertThat(this.ledger.runs()).isEqualTo(before + 4);
	}

	// Before the failed call too: both are undone, and the key is free at once.
	@Test
	void callThatFailedAndWasMadeAgainShouldBeReleasedWhenRolledBackToASavepointBeforeBoth() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			Object savepoint = status.createSavepoint();
			assertThatIllegalStateException().isThrownBy(() -> this.ledger.bookFailingOnce(this.key, 100));
			assertThat(this.ledger.bookFailingOnce(this.key, 100)).isEqualTo(1);
			status.rollbackToSavepoint(savepoint);
			assertThat(CompletableFuture.supplyAsync(() -> this.ledger.bookFailingOnce(this.key, 100)).join())
				.isEqualTo(1);
		});
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 3);
	}

	@Test
	void callFailingInsideTransactionShouldBeReleasedWhenItEnds() {
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> this.transactions.executeWithoutResult((status) -> this.ledger.book(this.key, -1)));
		assertThat(this.ledger.book(this.key, 100)).isEqualTo(1);
		assertThat(bookings()).isOne();
	}

	@Test
	void methodWithItsOwnTransactionShouldBeKeptWhenItReturnsWhateverTheCallerDoes() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			this.ledger.bookAlone(this.key, 100);
			status.setRollbackOnly();
		});
		assertThat(bookings()).isOne();
		assertThat(this.ledger.bookAlone(this.key, 100)).isEqualTo(1);
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
	}

	@Test
	void methodKeptOnReturnShouldNotRunAgainWhenTheCallerRollsBack() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			assertThat(this.ledger.charge(this.key, 100)).isEqualTo(1);
			// Kept in the store already: another caller gets the outcome.
			assertThat(CompletableFuture.supplyAsync(() -> this.ledger.charge(this.key, 100)))
				.succeedsWithin(Duration.ofSeconds(5))
				.isEqualTo(1);
			assertThat(this.ledger.charge(this.key, 100)).isEqualTo(1);
			status.setRollbackOnly();
		});
		assertThat(this.ledger.charge(this.key, 100)).isEqualTo(1);
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
	}

	@Test
	void methodKeptOnReturnShouldReleaseItsKeyAsSoonAsItFails() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			assertThatExceptionOfType(IllegalArgumentException.class)
				.isThrownBy(() -> this.ledger.charge(this.key, -1));
			// Not held until the transaction ends.
			assertThat(CompletableFuture.supplyAsync(() -> this.ledger.charge(this.key, 100)))
				.succeedsWithin(Duration.ofSeconds(5))
				.isEqualTo(1);
		});
		assertThat(this.ledger.charge(this.key, 100)).isEqualTo(1);
		assertThat(this.ledger.runs()).isEqualTo(before + 2);
	}

	// Sharing a scope, one key: the transaction's own call is still waiting for it.
	@Test
	void methodKeptOnReturnShouldBeAnsweredByACallWaitingForTheSameTransaction() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			assertThat(this.ledger.chargeWithinTheTransaction(this.key, 100)).isEqualTo(1);
			assertThat(this.ledger.chargeOnItsOwn(this.key, 100)).isEqualTo(1);
		});
		assertThat(this.ledger.chargeOnItsOwn(this.key, 100)).isEqualTo(1);
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
		assertThat(bookings()).isOne();
	}

	// The call that failed holds its key until the transaction ends, as its writes may
	// still commit; one kept on return would give it up at once if it failed too.
	@Test
	void methodKeptOnReturnShouldNotTakeTheKeyOverFromACallThatFailedInTheTransaction() {
		int before = this.ledger.runs();
		this.transactions.executeWithoutResult((status) -> {
			assertThatExceptionOfType(IllegalArgumentException.class)
				.isThrownBy(() -> this.ledger.chargeWithinTheTransaction(this.key, -1));
			assertThatExceptionOfType(IdempotentCallInProgressException.class)
				.isThrownBy(() -> this.ledger.chargeOnItsOwn(this.key, -1));
		});
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
		assertThat(this.ledger.chargeOnItsOwn(this.key, -1)).isEqualTo(1);
		assertThat(this.ledger.runs()).isEqualTo(before + 2);
	}

	// Spring honours the Jakarta annotation as its own, the method's over its class's.
	@Test
	void methodWithItsOwnJakartaTransactionShouldBeKeptWhenItReturnsWhateverTheCallerDoes() {
		int before = this.jakartaLedger.runs();
		this.transactions.executeWithoutResult((status) -> {
			this.jakartaLedger.bookAlone(this.key, 100);
			status.setRollbackOnly();
		});
		assertThat(bookings()).isOne();
		assertThat(this.jakartaLedger.bookAlone(this.key, 100)).isEqualTo(1);
		assertThat(bookings()).isOne();
		assertThat(this.jakartaLedger.runs()).isEqualTo(before + 1);
	}

	// Spring reads a class's @Transactional for the methods the class declares: one it
	// inherits runs in the caller's transaction, and is kept only if that commits.
	@Test
	void inheritedMethodShouldFollowTheTransactionOfTheClassThatDeclaresIt() {
		int before = this.inheritedLedger.runs();
		this.transactions.executeWithoutResult((status) -> {
			this.inheritedLedger.book(this.key, 100);
			status.setRollbackOnly();
		});
		assertThat(bookings()).isZero();
		assertThat(this.inheritedLedger.book(this.key, 100)).isEqualTo(1);
		assertThat(bookings()).isOne();
		assertThat(this.inheritedLedger.runs()).isEqualTo(before + 2);
	}

	// A participant's failure marks the whole transaction rollback-only; the method that
	// began it catches the failure and returns. Its caller must learn that nothing was
	// booked, as without the starter, and the call runs again.
	@Test
	void methodWhoseTransactionAParticipantMarkedRollbackOnlyShouldFailAndRunAgain() {
		int before = this.ledger.runs();
		assertThatExceptionOfType(UnexpectedRollbackException.class)
			.isThrownBy(() -> this.ledger.bookThenSwallowAFailedAudit(this.key, 100));
		assertThat(bookings()).isZero();
		assertThatExceptionOfType(UnexpectedRollbackException.class)
			.isThrownBy(() -> this.ledger.bookThenSwallowAFailedAudit(this.key, 100));
		assertThat(this.ledger.runs()).isEqualTo(before + 2);
	}

	// Only the propagation is read: a placeholder elsewhere in the annotation is the
	// transaction advice's to resolve.
	@Test
	void methodWhoseTransactionHasAPlaceholderShouldRunOnce() {
		int before = this.ledger.runs();
		assertThat(this.ledger.bookWithinTimeout(this.key, 100)).isEqualTo(1);
		assertThat(this.ledger.bookWithinTimeout(this.key, 100)).isEqualTo(1);
		assertThat(bookings()).isOne();
		assertThat(this.ledger.runs()).isEqualTo(before + 1);
	}

	int bookings() {
		Integer count = this.jdbc.queryForObject("select count(*) from idempotency_test_ledger where reference = ?",
				Integer.class, this.key);
		return (count != null) ? count : 0;
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@EnableTransactionManagement
	static class LedgerApplication {

		// Advice of its own between the idempotency advice (order 1000) and the
		// transaction advice (the lowest precedence), as a retry advice would be.
		@Bean
		static DefaultPointcutAdvisor auditAdvisor() {
			DefaultPointcutAdvisor advisor = new DefaultPointcutAdvisor(
					AnnotationMatchingPointcut.forMethodAnnotation(Audited.class),
					(MethodInterceptor) MethodInvocation::proceed);
			advisor.setOrder(2000);
			return advisor;
		}

		// Retry advice in the same place, as Spring Retry's @Retryable would be: each
		// attempt has a transaction of its own.
		@Bean
		static DefaultPointcutAdvisor retryAdvisor() {
			DefaultPointcutAdvisor advisor = new DefaultPointcutAdvisor(
					AnnotationMatchingPointcut.forMethodAnnotation(RetriedOnce.class),
					(MethodInterceptor) (invocation) -> {
						try {
							return ((ProxyMethodInvocation) invocation).invocableClone().proceed();
						}
						catch (IllegalStateException ex) {
							return invocation.proceed();
						}
					});
			advisor.setOrder(2000);
			return advisor;
		}

		@Bean
		DriverManagerDataSource dataSource() {
			return new DriverManagerDataSource(PostgresTestServer.url());
		}

		@Bean
		JdbcTemplate jdbcTemplate(DataSource dataSource) {
			return new JdbcTemplate(dataSource);
		}

		@Bean
		DataSourceTransactionManager transactionManager(DataSource dataSource) {
			return new LosingCommitReplies(dataSource);
		}

		@Bean
		TransactionTemplate transactionTemplate(DataSourceTransactionManager transactionManager) {
			return new TransactionTemplate(transactionManager);
		}

		@Bean
		JakartaLedger jakartaLedger(JdbcTemplate jdbc, Ledger ledger) {
			return new JakartaLedger(jdbc);
		}

		@Bean
		Ledger ledger(JdbcTemplate jdbc, AuditTrail audit) {
			jdbc.execute(
					"create table if not exists idempotency_test_ledger (reference varchar(64), amount_cents bigint)");
			return new Ledger(jdbc, audit);
		}

		@Bean
		InheritedLedger inheritedLedger(JdbcTemplate jdbc) {
			return new InheritedLedger(jdbc);
		}

		@Bean
		AuditTrail auditTrail() {
			return new AuditTrail();
		}

	}

	/**
	 * Commits, and once told to, fails the next commit as a connection that broke before
	 * the database's answer arrived would: Spring then knows nothing of the transaction's
	 * outcome. Or fails it so after committing, but reports a rollback, as JPA's
	 * transaction manager does when Hibernate's commit fails. Or refuses the next commit
	 * for certain, rolling it back, as a database that finds a deferred constraint broken
	 * does.
	 */
	static final class LosingCommitReplies extends DataSourceTransactionManager {

		private static final AtomicBoolean loseNext = new AtomicBoolean();

		private static final AtomicBoolean loseNextAsJpaDoes = new AtomicBoolean();

		private static final AtomicBoolean refuseNext = new AtomicBoolean();

		LosingCommitReplies(DataSource dataSource) {
			super(dataSource);
		}

		static void loseTheNextReply() {
			loseNext.set(true);
		}

		static void loseTheNextReplyReportingARollback() {
			loseNextAsJpaDoes.set(true);
		}

		static void refuseTheNextCommit() {
			refuseNext.set(true);
		}

		@Override
		protected void doCommit(DefaultTransactionStatus status) {
			if (refuseNext.compareAndSet(true, false)) {
				doRollback(status);
				throw new DataIntegrityViolationException("A deferred constraint was broken; rolled back");
			}
			super.doCommit(status);
			if (loseNext.compareAndSet(true, false)) {
				throw new TransactionSystemException("The connection broke before the commit's answer arrived");
			}
			if (loseNextAsJpaDoes.compareAndSet(true, false)) {
				throw new DataAccessResourceFailureException("Unable to commit against JDBC Connection",
						new SQLException("An I/O error occurred while sending to the backend", "08006"));
			}
		}

	}

	/**
	 * Books a payment into the ledger table, in the caller's transaction.
	 */
	public static class Ledger {

		private final JdbcTemplate jdbc;

		private final AuditTrail audit;

		static final String FAILING_ONCE = "ledger-failing-once";

		static final String CHARGES = "ledger-charges";

		private final AtomicInteger runs = new AtomicInteger();

		private final Set<String> failedOnce = ConcurrentHashMap.newKeySet();

		private final Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();

		Ledger(JdbcTemplate jdbc, AuditTrail audit) {
			this.jdbc = jdbc;
			this.audit = audit;
		}

		public int runs() {
			return this.runs.get();
		}

		@Idempotent(key = "#reference")
		@Transactional
		public int bookInOwnTransaction(String reference, long amountCents, Duration pause)
				throws InterruptedException {
			this.runs.incrementAndGet();
			int booked = this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
			Thread.sleep(pause.toMillis());
			return booked;
		}

		@Idempotent(key = "#reference")
		@Transactional
		@Audited
		public int bookAudited(String reference, long amountCents) {
			this.runs.incrementAndGet();
			return this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
		}

		@Idempotent(key = "#reference")
		@Transactional
		public int bookThenRollBack(String reference, long amountCents) {
			this.runs.incrementAndGet();
			this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
			TransactionAspectSupport.currentTransactionStatus().setRollbackOnly();
			return 1;
		}

		@Idempotent(key = "#reference")
		@Transactional
		public int bookThenSwallowAFailedAudit(String reference, long amountCents) {
			this.runs.incrementAndGet();
			this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
			try {
				this.audit.record(reference);
			}
			catch (IllegalStateException ex) {
				// Booked all the same, the method believes.
			}
			return 1;
		}

		@Idempotent(key = "#reference", completion = Completion.AFTER_COMMIT)
		@Transactional
		public int bookThenStoreAfterCommit(String reference, long amountCents, Duration pause)
				throws InterruptedException {
			this.runs.incrementAndGet();
			int booked = this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
			Thread.sleep(pause.toMillis());
			return booked;
		}

		@Idempotent(key = "#reference", finalExceptions = Refused.class)
		@Transactional
		public int bookThenRefuse(String reference, long amountCents) throws Refused {
			this.runs.incrementAndGet();
			this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
			throw new Refused("booked, and refused: a checked exception, which commits");
		}

		@Idempotent(key = "#reference")
		@Transactional(propagation = Propagation.REQUIRES_NEW)
		public int bookAlone(String reference, long amountCents) {
			this.runs.incrementAndGet();
			return this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
		}

		@Idempotent(key = "#reference")
		@Transactional(timeoutString = "${ledger.timeout-seconds:30}")
		public int bookWithinTimeout(String reference, long amountCents) {
			this.runs.incrementAndGet();
			return this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
		}

		@Idempotent(key = "#reference")
		public int book(String reference, long amountCents) {
			this.runs.incrementAndGet();
			if (amountCents < 0) {
				throw new IllegalArgumentException("negative amount");
			}
			return this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
		}

		@Idempotent(key = "#reference", fingerprint = "#amountCents", lockTimeout = "900ms", waitTimeout = "100ms")
		public int bookSlowlyFailingOnce(String reference, long amountCents, Duration pause)
				throws InterruptedException {
			this.runs.incrementAndGet();
			Thread.sleep(pause.toMillis());
			if (this.failedOnce.add(reference)) {
				throw new IllegalStateException("The ledger is busy");
			}
			return this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
		}

		@Idempotent(key = "#reference")
		public int bookFailingTwice(String reference, long amountCents) {
			this.runs.incrementAndGet();
			if (this.failures.computeIfAbsent(reference, (key) -> new AtomicInteger()).incrementAndGet() <= 2) {
				throw new IllegalStateException("The ledger is busy");
			}
			return this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
		}

		@Idempotent(key = "#reference", scope = CHARGES)
		public int chargeWithinTheTransaction(String reference, long amountCents) {
			this.runs.incrementAndGet();
			if (amountCents < 0) {
				throw new IllegalArgumentException("negative amount");
			}
			return this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
		}

		@Idempotent(key = "#reference", scope = CHARGES, completion = Completion.ON_RETURN)
		public int chargeOnItsOwn(String reference, long amountCents) {
			this.runs.incrementAndGet();
			return 1;
		}

		// What it does (a charge at a provider, say) is not the transaction's.
		@Idempotent(key = "#reference", completion = Completion.ON_RETURN)
		public int charge(String reference, long amountCents) {
			this.runs.incrementAndGet();
			if (amountCents < 0) {
				throw new IllegalArgumentException("negative amount");
			}
			return 1;
		}

		@Idempotent(key = "#reference", finalExceptions = TransactionSystemException.class)
		@Transactional
		public int bookInOwnTransactionFailingForGood(String reference, long amountCents) {
			this.runs.incrementAndGet();
			return this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
		}

		@Idempotent(key = "#reference")
		@Transactional
		@RetriedOnce
		public int bookRetriedAfterFailingOnce(String reference, long amountCents) {
			this.runs.incrementAndGet();
			this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
			if (this.failedOnce.add(reference)) {
				throw new IllegalStateException("The ledger is busy");
			}
			return 1;
		}

		@Idempotent(key = "#reference", scope = FAILING_ONCE)
		public int bookFailingOnce(String reference, long amountCents) {
			this.runs.incrementAndGet();
			if (this.failedOnce.add(reference)) {
				throw new IllegalStateException("The ledger is busy");
			}
			return this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
		}

	}

	/**
	 * Fails in the caller's transaction, which its transaction advice then marks
	 * rollback-only.
	 */
	public static class AuditTrail {

		@Transactional
		public void record(String reference) {
			throw new IllegalStateException("audit trail unavailable for " + reference);
		}

	}

	/**
	 * Books in a transaction of its own, as Jakarta's annotation on the method says,
	 * whatever Spring's on the class says.
	 */
	@Transactional
	public static class JakartaLedger {

		private final JdbcTemplate jdbc;

		private final AtomicInteger runs = new AtomicInteger();

		JakartaLedger(JdbcTemplate jdbc) {
			this.jdbc = jdbc;
		}

		public int runs() {
			return this.runs.get();
		}

		@Idempotent(key = "#reference")
		@jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.REQUIRES_NEW)
		public int bookAlone(String reference, long amountCents) {
			this.runs.incrementAndGet();
			return this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
		}

	}

	/**
	 * Books in the caller's transaction: no annotation says otherwise where the method is
	 * declared.
	 */
	public static class LedgerBase {

		private final JdbcTemplate jdbc;

		private final AtomicInteger runs = new AtomicInteger();

		LedgerBase(JdbcTemplate jdbc) {
			this.jdbc = jdbc;
		}

		public int runs() {
			return this.runs.get();
		}

		@Idempotent(key = "#reference")
		public int book(String reference, long amountCents) {
			this.runs.incrementAndGet();
			return this.jdbc.update("insert into idempotency_test_ledger values (?, ?)", reference, amountCents);
		}

	}

	/**
	 * Its own methods would run in transactions of their own; it has none, only the one
	 * it inherits.
	 */
	@Transactional(propagation = Propagation.REQUIRES_NEW)
	public static class InheritedLedger extends LedgerBase {

		InheritedLedger(JdbcTemplate jdbc) {
			super(jdbc);
		}

	}

	/**
	 * Marks the methods the retry advice applies to.
	 */
	@Retention(RetentionPolicy.RUNTIME)
	@Target(ElementType.METHOD)
	@interface RetriedOnce {

	}

	/**
	 * Marks the methods the audit advice applies to.
	 */
	@Retention(RetentionPolicy.RUNTIME)
	@Target(ElementType.METHOD)
	@interface Audited {

	}

	/**
	 * A final answer that does not roll back.
	 */
	public static class Refused extends Exception {

		public Refused(String message) {
			super(message);
		}

	}

}
