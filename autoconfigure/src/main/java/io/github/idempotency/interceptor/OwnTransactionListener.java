package io.github.idempotency.interceptor;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;

import org.jspecify.annotations.Nullable;

import org.springframework.core.NamedThreadLocal;
import org.springframework.transaction.TransactionExecution;
import org.springframework.transaction.TransactionExecutionListener;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Tells the idempotency advice how the transactions an idempotent {@code @Transactional}
 * method begins for itself ended. The advice runs outside the transaction advice, where a
 * commit whose answer never came (a connection that broke while the database committed)
 * looks like any other exception; released, the key would let a retry run the method
 * again although its writes may have committed. A commit's outcome is unknown when the
 * transaction manager says so, or when the commit failed for a broken connection, which
 * JPA's, as Hibernate leaves it, takes for a rollback. Added to the application's
 * transaction managers by the auto-configuration; a call through a transaction manager
 * without it releases its key on such a failure.
 *
 * <p>
 * Thread-safe: what it learns stays with the thread of the call.
 *
 * @since 0.1.0
 */
public class OwnTransactionListener implements TransactionExecutionListener {

	private static final ThreadLocal<Watch> watches = new NamedThreadLocal<>(
			"Idempotent call following its own transactions");

	/**
	 * Follows the transactions begun on this thread from now on, each while no other it
	 * follows is in progress: for a call of a method that begins a transaction of its
	 * own, the method's, one, or one per attempt where retry advice sits between the
	 * idempotency advice and the transaction advice.
	 * @return the watch, to be closed once the call has returned or thrown
	 */
	static Watch watch() {
		Watch watch = new Watch(watches.get());
		watches.set(watch);
		return watch;
	}

	// Each attempt's commit is judged on its own: a failure to begin the next one says
	// nothing of the last one's commit.
	@Override
	public void beforeBegin(TransactionExecution transaction) {
		Watch watch = watches.get();
		if (watch != null && watch.followed == null) {
			watch.commitFailed = false;
		}
	}

	@Override
	public void afterBegin(TransactionExecution transaction, @Nullable Throwable beginFailure) {
		Watch watch = watches.get();
		// A transaction begun within the one followed (REQUIRES_NEW, say) is not the
		// method's.
		if (watch == null || watch.followed != null || beginFailure != null
				|| !(transaction instanceof TransactionStatus) || !transaction.isNewTransaction()
				|| !TransactionSynchronizationManager.isSynchronizationActive()) {
			return;
		}
		watch.followed = transaction;
		watch.committing = false;
		TransactionSynchronizationManager.registerSynchronization(watch);
	}

	// Called right before the transaction manager sends the commit: after the commit's
	// callbacks, which may fail it with nothing sent.
	@Override
	public void beforeCommit(TransactionExecution transaction) {
		Watch watch = watches.get();
		if (watch != null && watch.followed == transaction) {
			watch.committing = true;
		}
	}

	// A connection that failed (SQLSTATE class 08), that the server ended (PostgreSQL's
	// 57P01 and 57P02, also while a commit waited for a replica), or that the driver gave
	// up on: whether the database committed before, nobody on this side knows.
	private static boolean brokenConnection(Throwable failure) {
		// Bounded: causes may form a cycle.
		Throwable cause = failure;
		for (int depth = 0; cause != null && depth < 32; depth++, cause = cause.getCause()) {
			if (cause instanceof SQLRecoverableException || cause instanceof SQLTransientConnectionException
					|| cause instanceof SQLNonTransientConnectionException) {
				return true;
			}
			if (cause instanceof SQLException sql && sql.getSQLState() != null && (sql.getSQLState().startsWith("08")
					|| sql.getSQLState().equals("57P01") || sql.getSQLState().equals("57P02"))) {
				return true;
			}
		}
		return false;
	}

	/**
	 * One call's view of its transactions. Used on the call's thread only: Spring ends a
	 * transaction on the thread that began it.
	 */
	static final class Watch implements TransactionSynchronization {

		private final @Nullable Watch enclosing;

		// The transaction followed now, until it ends.
		private @Nullable TransactionExecution followed;

		private boolean committing;

		// Whether the commit of the last one was sent and did not commit.
		private boolean commitFailed;

		// Whether a commit of any of them ended with its outcome unknown: one that may
		// have committed, followed by an attempt that failed for certain, leaves the call
		// as unknown as it was.
		private boolean outcomeUnknown;

		private Watch(@Nullable Watch enclosing) {
			this.enclosing = enclosing;
		}

		@Override
		public void afterCompletion(int status) {
			// A rollback that failed after the method threw sent no commit.
			if (this.committing && status == STATUS_UNKNOWN) {
				this.outcomeUnknown = true;
			}
			this.commitFailed = this.committing && status != STATUS_COMMITTED;
			this.followed = null;
		}

		/**
		 * Whether a commit was sent and its outcome is unknown: the transaction manager
		 * said so, or the last commit failed for a broken connection, which a transaction
		 * manager that finds nothing left to roll back (JPA's, as Hibernate leaves it)
		 * reports as rolled back.
		 * @param failure what the call threw
		 */
		boolean commitOutcomeUnknown(Throwable failure) {
			return this.outcomeUnknown || (this.commitFailed && brokenConnection(failure));
		}

		void close() {
			if (this.enclosing != null) {
				watches.set(this.enclosing);
			}
			else {
				watches.remove();
			}
		}

	}

}
