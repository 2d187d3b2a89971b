package io.github.idempotency.test;

import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.AbstractPlatformTransactionManager;
import org.springframework.transaction.support.DefaultTransactionStatus;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Transactions with no resource to commit, only their synchronizations: enough for a test
 * whose effects are booked when a transaction commits, without a database. They join,
 * suspend and resume as a database's would.
 */
public class ThreadTransactionManager extends AbstractPlatformTransactionManager {

	@Override
	protected Object doGetTransaction() {
		return new ThreadTransaction(TransactionSynchronizationManager.hasResource(this));
	}

	@Override
	protected boolean isExistingTransaction(Object transaction) {
		return ((ThreadTransaction) transaction).existing();
	}

	@Override
	protected void doBegin(Object transaction, TransactionDefinition definition) {
		TransactionSynchronizationManager.bindResource(this, transaction);
	}

	@Override
	protected Object doSuspend(Object transaction) {
		return TransactionSynchronizationManager.unbindResource(this);
	}

	@Override
	protected void doResume(Object transaction, Object suspendedResources) {
		TransactionSynchronizationManager.bindResource(this, suspendedResources);
	}

	@Override
	protected void doCommit(DefaultTransactionStatus status) {
	}

	@Override
	protected void doRollback(DefaultTransactionStatus status) {
	}

	@Override
	protected void doCleanupAfterCompletion(Object transaction) {
		TransactionSynchronizationManager.unbindResourceIfPossible(this);
	}

	private record ThreadTransaction(boolean existing) {
	}

}
