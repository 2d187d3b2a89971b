package io.github.idempotency.interceptor;

import java.time.Duration;
import java.util.function.Consumer;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.IdempotentOutcomeNotStoredException;
import io.github.idempotency.StoredResponse;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * A key one call has claimed: it ends by being {@linkplain #complete completed} with the
 * call's outcome or {@linkplain #release released} so that a retry runs again. Both are
 * fenced by the owner token the claim got, so a call whose lease lapsed and whose key was
 * claimed again cannot touch the new owner's record. The lease is renewed from the claim
 * until one of them is called. Thread-safe.
 *
 * @since 0.1.0
 */
public final class Claim {

	private static final Log logger = LogFactory.getLog(IdempotencyLifecycle.class);

	// An outcome not kept lets a retry run the call again once the lock timeout passes,
	// so a store that fails at once (a connection reset, a lock wait given up) is asked
	// again. One that failed only after a second is not: its caller, who may be waiting
	// for the answer, would wait as long again.
	private static final Duration[] RETRY_PAUSES = { Duration.ofMillis(50), Duration.ofMillis(200) };

	private static final Duration RETRY_WITHIN = Duration.ofSeconds(1);

	private final IdempotencyStore store;

	private final String recordKey;

	private final String token;

	private final String fingerprint;

	private final Duration retention;

	private final LeaseRenewals.@Nullable Lease lease;

	private final Consumer<IdempotencyOutcome> end;

	Claim(IdempotencyStore store, String recordKey, String token, String fingerprint, Duration retention,
			LeaseRenewals.@Nullable Lease lease, Consumer<IdempotencyOutcome> end) {
		this.store = store;
		this.recordKey = recordKey;
		this.token = token;
		this.fingerprint = fingerprint;
		this.retention = retention;
		this.lease = lease;
		this.end = end;
	}

	/**
	 * The key of the claimed record, for messages.
	 * @return the record key
	 */
	public String recordKey() {
		return this.recordKey;
	}

	/**
	 * The fingerprint the key was claimed with.
	 * @return the fingerprint
	 */
	String fingerprint() {
		return this.fingerprint;
	}

	/**
	 * The owner token the key was claimed with, for a claim that takes this one over.
	 * @return the token
	 */
	String token() {
		return this.token;
	}

	/**
	 * Stores the call's outcome, to be replayed for the operation's retention. A store
	 * that fails at once is asked twice more, briefly, before the failure is logged;
	 * failures are not thrown: the call has already happened.
	 * @param outcome what the call produced
	 * @return {@code true} if stored
	 */
	public boolean complete(StoredResponse outcome) {
		stopRenewal();
		// An interrupt the call left on its thread (flag restored after catching
		// InterruptedException) was meant for the call, which is over: it must not
		// fail the store's wait for the answer, nor the pauses between attempts. Set
		// again once the outcome is stored.
		boolean interrupted = Thread.interrupted();
		try {
			return store(outcome);
		}
		finally {
			if (interrupted) {
				Thread.currentThread().interrupt();
			}
		}
	}

	private boolean store(StoredResponse outcome) {
		long start = System.nanoTime();
		for (int attempt = 0;; attempt++) {
			try {
				if (this.store.complete(this.recordKey, this.token, outcome, this.retention)) {
					return true;
				}
				logger.warn("Lease on idempotency record " + this.recordKey + " was lost before the outcome was stored;"
						+ " raise idempotency.lock-timeout above the operation's longest run");
				leaseLost();
				return false;
			}
			catch (IdempotencyStoreException ex) {
				if (attempt < RETRY_PAUSES.length && System.nanoTime() - start < RETRY_WITHIN.toNanos()) {
					logger.warn("Could not store the outcome of idempotency record " + this.recordKey
							+ "; trying again: " + ex.getMessage());
					if (pause(RETRY_PAUSES[attempt])) {
						continue;
					}
				}
				logger.error("Could not store the outcome of idempotency record " + this.recordKey + "; retries are"
						+ " told it is in progress until the lock timeout passes, then run again", ex);
				this.end.accept(IdempotencyOutcome.NOT_STORED);
				return false;
			}
		}
	}

	private static boolean pause(Duration pause) {
		try {
			Thread.sleep(pause.toMillis());
			return true;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

	/**
	 * Whether the store can keep the call's outcome within the transaction this thread
	 * runs, so that it commits with the call's own writes.
	 * @return {@code true} if {@link #completeInCurrentTransaction} may be called now
	 */
	public boolean completesInCurrentTransaction() {
		try {
			return this.store.canCompleteInCurrentTransaction();
		}
		// A store that cannot tell cannot join: the outcome is then kept after the
		// transaction, as by any other store.
		catch (RuntimeException ex) {
			logger.debug("Could not tell whether idempotency record " + this.recordKey + " can be stored within the"
					+ " transaction; it is stored after it", ex);
			return false;
		}
	}

	/**
	 * Stores the call's outcome within the transaction this thread runs. Unlike
	 * {@link #complete}, a failure is thrown: the transaction must then roll back, rather
	 * than commit writes whose record was not kept. The caller releases the claim if the
	 * transaction rolls back.
	 * @param outcome what the call produced
	 * @throws IdempotentOutcomeNotStoredException if the outcome could not be stored, or
	 * the lease was lost
	 */
	public void completeInCurrentTransaction(StoredResponse outcome) {
		stopRenewal();
		// Once the completion holds the record's row, a renewal would wait for the
		// transaction: the lease is renewed once more first, so that the record stays
		// claimed through a slow commit, and a duplicate meanwhile finds its key in
		// progress rather than waiting for the row.
		if (this.lease != null) {
			renewOnceMore(this.lease.duration());
		}
		boolean stored;
		try {
			stored = this.store.completeInCurrentTransaction(this.recordKey, this.token, outcome, this.retention);
		}
		catch (IdempotencyStoreException ex) {
			throw new IdempotentOutcomeNotStoredException("Could not store the outcome of idempotency record "
					+ this.recordKey + "; the transaction rolls back so that its writes do not outlive their record: "
					+ ex.getMessage(), ex);
		}
		if (!stored) {
			throw leaseLostInTransaction();
		}
	}

	private void renewOnceMore(Duration lease) {
		boolean renewed;
		try {
			renewed = this.store.renew(this.recordKey, this.token, lease);
		}
		// The completion tells whether the lease still holds.
		catch (IdempotencyStoreException ex) {
			logger.debug("Could not renew the lease on idempotency record " + this.recordKey + " before storing its"
					+ " outcome within the transaction", ex);
			return;
		}
		if (!renewed) {
			throw leaseLostInTransaction();
		}
	}

	private IdempotentOutcomeNotStoredException leaseLostInTransaction() {
		leaseLost();
		return new IdempotentOutcomeNotStoredException("Lease on idempotency record " + this.recordKey + " was lost"
				+ " before the outcome was stored; the transaction rolls back so that its writes do not outlive their"
				+ " record. Raise idempotency.lock-timeout above the operation's longest run", null);
	}

	private void leaseLost() {
		this.end.accept(IdempotencyOutcome.LEASE_LOST);
	}

	/**
	 * Gives the key up, so that the next call with it runs. Failures are logged, not
	 * thrown: the claim then frees itself when its lock timeout passes.
	 */
	public void release() {
		stopRenewal();
		this.end.accept(IdempotencyOutcome.RELEASED);
		try {
			this.store.release(this.recordKey, this.token);
		}
		catch (IdempotencyStoreException ex) {
			logger.warn("Could not release idempotency record " + this.recordKey + "; it frees itself when the lock"
					+ " timeout passes: " + ex.getMessage());
		}
	}

	/**
	 * Ends this claim without giving its key up, for a call that failed and whose key the
	 * same call, made again, now holds under a claim of its own.
	 */
	void handOver() {
		stopRenewal();
		this.end.accept(IdempotencyOutcome.RELEASED);
	}

	/**
	 * Stops renewing the lease, for a call that will complete or release the claim later
	 * and must not hold it past its lock timeout meanwhile.
	 */
	public void stopRenewal() {
		if (this.lease != null) {
			this.lease.stop();
		}
	}

}
