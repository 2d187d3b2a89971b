package io.github.idempotency.interceptor;

import org.jspecify.annotations.Nullable;

import org.springframework.core.NamedThreadLocal;
import org.springframework.transaction.TransactionExecution;
import org.springframework.transaction.TransactionExecutionListener;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Tells the idempotency advice how the transaction an idempotent {@code @Transactional}
 * method begins for itself ended. The advice runs outside the transaction advice, where a
 * commit whose answer never came (a connection that broke while the database committed)
 * looks like any other exception; released, the key would let a retry run the method
 * again although its writes may have committed. Added to the application's transaction
 * managers by the auto-configuration; a call through a transaction manager without it
 * releases its key on such a failure.
 *
 * <p>
 * Thread-safe: what it learns stays with the thread of the call.
 *
 * @since 0.1.0
 */
public class OwnTransactionListener implements TransactionExecutionListener {

	private static final ThreadLocal<Watch> watches = new NamedThreadLocal<>(
			"Idempotent call waiting for its own transaction");

	/**
	 * Follows the first transaction begun on this thread from now on, which for a call
	 * made outside any transaction of a method that begins one is the method's own.
	 * @return the watch, to be closed once the call has returned or thrown
	 */
	static Watch watch() {
		Watch watch = new Watch(watches.get());
		watches.set(watch);
		return watch;
	}

	@Override
	public void afterBegin(TransactionExecution transaction, @Nullable Throwable beginFailure) {
		Watch watch = watches.get();
		// A transaction begun within the method's own (REQUIRES_NEW, say) is not its.
		if (watch == null || watch.followed || beginFailure != null || !(transaction instanceof TransactionStatus)
				|| !transaction.isNewTransaction() || !TransactionSynchronizationManager.isSynchronizationActive()) {
			return;
		}
		watch.followed = true;
		TransactionSynchronizationManager.registerSynchronization(watch);
	}

	/**
	 * One call's view of its transaction. Used on the call's thread only: Spring ends a
	 * transaction on the thread that began it.
	 */
	static final class Watch implements TransactionSynchronization {

		private final @Nullable Watch enclosing;

		private boolean followed;

		private boolean committing;

		private int status = -1;

		private Watch(@Nullable Watch enclosing) {
			this.enclosing = enclosing;
		}

		@Override
		public void beforeCommit(boolean readOnly) {
			this.committing = true;
		}

		@Override
		public void afterCompletion(int status) {
			this.status = status;
		}

		/**
		 * Whether the transaction was committed and the transaction manager does not know
		 * whether it took: a rollback that failed after the method threw sent no commit,
		 * and a commit refused for certain ends rolled back.
		 */
		boolean commitOutcomeUnknown() {
			return this.committing && this.status == STATUS_UNKNOWN;
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
