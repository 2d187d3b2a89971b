package io.github.idempotency.interceptor;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.UnreadableRecordException;
import io.github.idempotency.interceptor.IdempotencyPolicy.OnStoreFailure;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * The lifecycle every idempotent call goes through, whatever brought it: one claim of its
 * key, a {@link Decision} on what the call gets, and, for the call that proceeds, a
 * {@link Claim} that completes with its outcome or releases the key. A duplicate of a
 * call still running is polled for up to the wait timeout; a store that cannot be reached
 * is answered as the policy says; the claim's lease is renewed while the call runs. Every
 * decision is reported to the {@link IdempotencyOutcomeListener}.
 *
 * <p>
 * Knows nothing of transports: each one (the servlet path, the method path) derives the
 * record key and fingerprint, and turns the decision into its own answer. Thread-safe.
 *
 * @since 0.1.0
 */
public class IdempotencyLifecycle implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(IdempotencyLifecycle.class);

	private static final long FIRST_POLL_MILLIS = 10;

	private static final long LONGEST_POLL_MILLIS = 250;

	private final IdempotencyStore store;

	private final IdempotencyPolicy policy;

	private final IdempotencyOutcomeListener outcomes;

	private final StoreFailureLog storeFailures = new StoreFailureLog("Idempotency store unavailable");

	private final LeaseRenewals renewals;

	/**
	 * @param store where records live
	 * @param policy the settings applied to every operation
	 * @param outcomes told what became of each call
	 */
	public IdempotencyLifecycle(IdempotencyStore store, IdempotencyPolicy policy, IdempotencyOutcomeListener outcomes) {
		this.store = store;
		this.policy = policy;
		this.outcomes = guarded(outcomes);
		this.renewals = new LeaseRenewals(store, policy.lockRenewalMaxDuration());
	}

	/**
	 * The settings applied to every operation.
	 * @return the policy
	 */
	public IdempotencyPolicy policy() {
		return this.policy;
	}

	/**
	 * Claims a call's key, or finds out what holds it.
	 * @param operation the operation called
	 * @param tag names the operation in metrics and logs, such as {@code POST /orders};
	 * never a client's key
	 * @param recordKey the record key, derived from the operation's scope and the key
	 * @param fingerprint what makes two calls the same
	 * @return the decision
	 */
	public Decision begin(IdempotentOperation operation, String tag, String recordKey, String fingerprint) {
		Duration lease = (operation.lockTimeout() != null) ? operation.lockTimeout() : this.policy.lockTimeout();
		Duration wait = (operation.waitTimeout() != null) ? operation.waitTimeout() : this.policy.waitTimeout();
		long waitUntil = System.nanoTime() + wait.toNanos();
		long pollMillis = FIRST_POLL_MILLIS;
		while (true) {
			ClaimResult result;
			long sentAt = System.nanoTime();
			try {
				result = this.store.claim(recordKey, fingerprint, lease);
			}
			catch (UnreadableRecordException ex) {
				record(tag, IdempotencyOutcome.UNREADABLE_RECORD);
				logger.error(ex.getMessage() + "; it is neither replayed nor overwritten. Delete it (the idempotency"
						+ " Actuator endpoint does) once you know where it came from.");
				return onStoreFailure(operation, ex);
			}
			catch (IdempotencyStoreException ex) {
				record(tag, IdempotencyOutcome.STORE_ERROR);
				return onStoreFailure(operation, ex);
			}
			this.storeFailures.answered();
			// Answered once its lease had run out (a reply held up, or a command
			// sent again after a reconnect), a claim may have expired and been
			// taken by another call meanwhile: running now could run twice. So too
			// past half its lease: the first renewal, overdue then, would need as
			// long a round trip as the claim's to land in what is left. It is given
			// back, and the call is handled as one whose duplicate is in progress;
			// a retry claims anew.
			if (result instanceof ClaimResult.Claimed late && System.nanoTime() - sentAt >= lease.toNanos() / 2) {
				giveBack(recordKey, late.token(), lease);
			}
			else if (result instanceof ClaimResult.Claimed claimed) {
				record(tag, IdempotencyOutcome.EXECUTED);
				Duration ttl = (operation.ttl() != null) ? operation.ttl() : this.policy.ttl();
				Consumer<IdempotencyOutcome> end = endOnce(tag);
				return new Decision.Proceed(
						new Claim(this.store, recordKey, claimed.token(), fingerprint, ttl, renewWhileRunning(recordKey,
								claimed.token(), lease, sentAt, () -> end.accept(IdempotencyOutcome.LEASE_LOST)), end));
			}
			else if (result instanceof ClaimResult.Completed completed) {
				record(tag, IdempotencyOutcome.REPLAYED);
				if (logger.isDebugEnabled()) {
					logger.debug("Replayed record " + recordKey);
				}
				return new Decision.Replay(completed.response());
			}
			else if (result instanceof ClaimResult.Mismatch) {
				record(tag, IdempotencyOutcome.MISMATCH);
				if (logger.isDebugEnabled()) {
					logger.debug("Key mismatch on record " + recordKey);
				}
				return new Decision.Mismatch();
			}
			long remainingMillis = Duration.ofNanos(waitUntil - System.nanoTime()).toMillis();
			if (remainingMillis <= 0 || !pause(Math.min(pollMillis, remainingMillis))) {
				record(tag, IdempotencyOutcome.IN_PROGRESS);
				if (logger.isDebugEnabled()) {
					logger.debug("Call in progress on record " + recordKey);
				}
				return new Decision.InProgress();
			}
			pollMillis = Math.min(pollMillis * 2, LONGEST_POLL_MILLIS);
		}
	}

	/**
	 * Takes over the claim of a call that failed and still holds its key (until the
	 * transaction its writes are in ends), for the same call made again meanwhile: once
	 * the store has renewed the lease by the failed call's token, the call made again
	 * gets a claim of its own on the key, renewed from now, and the failed call's claim
	 * ends as released.
	 * @param operation the operation called again
	 * @param tag names it in metrics and logs
	 * @param failed the claim of the call that failed
	 * @return the new claim, or {@code null} if the key may no longer be the failed
	 * call's, or the store did not answer in time to tell
	 */
	@Nullable Claim takeOver(IdempotentOperation operation, String tag, Claim failed) {
		Duration lease = (operation.lockTimeout() != null) ? operation.lockTimeout() : this.policy.lockTimeout();
		long sentAt = System.nanoTime();
		try {
			if (!this.store.renew(failed.recordKey(), failed.token(), lease)) {
				return null;
			}
		}
		catch (IdempotencyStoreException ex) {
			logger.debug("Could not renew the lease on idempotency record " + failed.recordKey(), ex);
			return null;
		}
		// As for a claim answered late: the first renewal could come too late.
		if (System.nanoTime() - sentAt >= lease.toNanos() / 2) {
			return null;
		}
		failed.handOver();
		record(tag, IdempotencyOutcome.EXECUTED);
		Duration ttl = (operation.ttl() != null) ? operation.ttl() : this.policy.ttl();
		Consumer<IdempotencyOutcome> end = endOnce(tag);
		return new Claim(this.store, failed.recordKey(), failed.token(), failed.fingerprint(), ttl,
				renewWhileRunning(failed.recordKey(), failed.token(), lease, sentAt,
						() -> end.accept(IdempotencyOutcome.LEASE_LOST)),
				end);
	}

	private void giveBack(String recordKey, String token, Duration lease) {
		logger.warn("The claim of record " + recordKey + " was answered only after half its lease (" + lease + ") had"
				+ " passed; it is given back, and the call answered as one whose duplicate is in progress");
		try {
			this.store.release(recordKey, token);
		}
		catch (RuntimeException ex) {
			// Fenced by its token, and expired or expiring anyway.
			logger.debug("Could not give back the late claim of record " + recordKey, ex);
		}
	}

	/**
	 * Reports an outcome a transport decided on its own, such as a missing key.
	 * @param tag names the operation
	 * @param outcome what became of the call
	 */
	public void record(String tag, IdempotencyOutcome outcome) {
		this.outcomes.onOutcome(tag, outcome);
	}

	/**
	 * Stops renewing leases. Claims still running then expire after their lock timeout.
	 */
	@Override
	public void close() {
		this.renewals.close();
	}

	// Outcomes are told once the decision is made, a claim among them: a listener that
	// throws must neither fail the call it reports nor leave its key claimed.
	private static IdempotencyOutcomeListener guarded(IdempotencyOutcomeListener listener) {
		AtomicBoolean warned = new AtomicBoolean();
		return (tag, outcome) -> {
			try {
				listener.onOutcome(tag, outcome);
			}
			catch (RuntimeException ex) {
				if (warned.compareAndSet(false, true)) {
					logger.warn("An idempotency outcome listener failed on " + outcome.tagValue() + " of " + tag
							+ "; the call goes on, and later failures are logged at DEBUG", ex);
				}
				else {
					logger.debug("An idempotency outcome listener failed on " + outcome.tagValue() + " of " + tag, ex);
				}
			}
		};
	}

	private Decision onStoreFailure(IdempotentOperation operation, IdempotencyStoreException ex) {
		if (this.policy.onStoreFailure() == OnStoreFailure.PROCEED) {
			this.storeFailures.failed(
					"running " + operation.name() + " without idempotency (idempotency.on-store-failure=proceed)", ex);
			return new Decision.Unprotected();
		}
		this.storeFailures.failed("refusing " + operation.name() + " (idempotency.on-store-failure=reject)", ex);
		return new Decision.Unavailable(ex);
	}

	// What ended a call that ran, when it did not end well: a lost lease, found by a
	// renewal or by a completion (the one in the transaction, then the one after it); a
	// release; an outcome the store failed to keep. Only the first is reported: a call
	// whose lease was lost and that then fails released nothing.
	private Consumer<IdempotencyOutcome> endOnce(String tag) {
		AtomicBoolean reported = new AtomicBoolean();
		return (outcome) -> {
			if (reported.compareAndSet(false, true)) {
				this.outcomes.onOutcome(tag, outcome);
			}
		};
	}

	private LeaseRenewals.@Nullable Lease renewWhileRunning(String recordKey, String token, Duration lease,
			long claimSentAt, Runnable onLost) {
		if (!this.policy.lockRenewal()) {
			return null;
		}
		// At most a third of this operation's lease, whatever is configured: an operation
		// may declare a lock timeout shorter than the configured interval, and its lease
		// would lapse before the first renewal. Not Duration.dividedBy, which divides
		// through BigDecimal on every call.
		Duration third = Duration.ofNanos(lease.toNanos() / 3);
		Duration configured = this.policy.lockRenewalInterval();
		Duration interval = (configured != null && configured.compareTo(third) < 0) ? configured : third;
		return this.renewals.start(recordKey, token, lease, interval, claimSentAt, onLost);
	}

	private static boolean pause(long millis) {
		try {
			Thread.sleep(millis);
			return true;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

}
