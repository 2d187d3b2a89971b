package io.github.idempotency.interceptor;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.IdempotencyStore;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Keeps the claims of running calls alive. Claims are only registered and unregistered on
 * the calling thread; one background thread looks at them a few times a second and hands
 * those that are due to a small pool that renews them, so that one slow store call holds
 * up one of its threads, not every other claim's renewal. A call that finishes within its
 * first renewal interval, the common case, costs two map operations and no store call,
 * and wakes no thread.
 *
 * <p>
 * Nothing thrown by a renewal stops the others, or later ones: failures are logged once
 * per burst. No claim is renewed past its maximum duration, so a call that never returns
 * lets its key go one lock timeout after that. Thread-safe.
 */
final class LeaseRenewals implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(IdempotencyLifecycle.class);

	private static final long TICK_MILLIS = 50;

	private static final int MAX_CONCURRENT_RENEWALS = 16;

	private final IdempotencyStore store;

	private final Duration maxDuration;

	private final Map<Lease, Long> dueAt = new ConcurrentHashMap<>();

	private final ScheduledExecutorService ticker;

	private final ThreadPoolExecutor renewers;

	private final StoreFailureLog failures = new StoreFailureLog("Lease renewal failed");

	/**
	 * @param store where the claims live
	 * @param maxDuration how long after its claim a call's lease is still renewed
	 */
	LeaseRenewals(IdempotencyStore store, Duration maxDuration) {
		this.store = store;
		this.maxDuration = maxDuration;
		this.ticker = Executors.newSingleThreadScheduledExecutor(daemon("idempotency-lease-renewal"));
		// Due renewals queue for a handful of threads, so that one stuck call holds up
		// one thread, not the renewals behind it; a claim is queued at most once at a
		// time.
		this.renewers = new ThreadPoolExecutor(MAX_CONCURRENT_RENEWALS, MAX_CONCURRENT_RENEWALS, 30, TimeUnit.SECONDS,
				new LinkedBlockingQueue<>(), daemon("idempotency-lease-renewer-"));
		this.renewers.allowCoreThreadTimeOut(true);
		this.ticker.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
	}

	/**
	 * Starts renewing a claim every interval until {@link Lease#stop()}, or until the
	 * maximum duration has passed. The first renewal is due an interval after the claim
	 * was sent ({@link System#nanoTime()}): its lease may have started any time after
	 * that, and its answer may have come much later.
	 */
	Lease start(String recordKey, String token, Duration lease, Duration interval, long claimSentAt, Runnable onLost) {
		long now = System.nanoTime();
		Lease claim = new Lease(recordKey, token, lease, interval.toNanos(), now + this.maxDuration.toNanos(), onLost);
		this.dueAt.put(claim, claimSentAt + claim.intervalNanos);
		return claim;
	}

	int size() {
		return this.dueAt.size();
	}

	// A scheduled task that throws is never run again, so nothing may leave here.
	private void tick() {
		try {
			long now = System.nanoTime();
			this.dueAt.forEach((claim, due) -> {
				if (now - due >= 0) {
					renewLater(claim, due, now);
				}
			});
		}
		catch (Throwable ex) {
			this.failures.failed("lease renewal goes on", ex);
		}
	}

	private void renewLater(Lease claim, long due, long now) {
		if (now - claim.giveUpAt >= 0) {
			if (this.dueAt.remove(claim) != null) {
				logger.warn("Request holding idempotency record " + claim.recordKey + " has run longer than"
						+ " idempotency.lock-renewal.max-duration (" + this.maxDuration + "); its lease is no longer"
						+ " renewed, and the key is free again once it expires");
			}
			return;
		}
		if (!claim.renewing.compareAndSet(false, true)) {
			return;
		}
		try {
			this.renewers.execute(() -> renew(claim, due));
		}
		catch (RejectedExecutionException ex) {
			claim.renewing.set(false);
		}
	}

	// The next renewal is due an interval after this one was sent, as the lease it renews
	// may have started any time after that, however late the answer came.
	private void renew(Lease claim, long due) {
		try {
			long sentAt = System.nanoTime();
			if (this.store.renew(claim.recordKey, claim.token, claim.lease)) {
				this.failures.answered();
				this.dueAt.replace(claim, due, sentAt + claim.intervalNanos);
			}
			else if (this.dueAt.remove(claim) != null) {
				logger.warn("Lease on idempotency record " + claim.recordKey + " was lost while its call was"
						+ " running; a retry may run it again, and this call's outcome will not be" + " stored");
				claim.onLost.run();
			}
		}
		catch (Throwable ex) {
			this.failures.failed("renewing the lease on idempotency record " + claim.recordKey + " again shortly", ex);
		}
		finally {
			claim.renewing.set(false);
		}
	}

	@Override
	public void close() {
		this.ticker.shutdownNow();
		this.renewers.shutdownNow();
	}

	private static ThreadFactory daemon(String name) {
		AtomicInteger count = new AtomicInteger();
		return (task) -> {
			Thread thread = new Thread(task, name.endsWith("-") ? name + count.incrementAndGet() : name);
			thread.setDaemon(true);
			return thread;
		};
	}

	/**
	 * One claim being kept alive. Identity equality: every claim is its own map key.
	 */
	final class Lease {

		private final String recordKey;

		private final String token;

		private final Duration lease;

		private final long intervalNanos;

		private final long giveUpAt;

		private final AtomicBoolean renewing = new AtomicBoolean();

		private final Runnable onLost;

		private Lease(String recordKey, String token, Duration lease, long intervalNanos, long giveUpAt,
				Runnable onLost) {
			this.recordKey = recordKey;
			this.token = token;
			this.lease = lease;
			this.intervalNanos = intervalNanos;
			this.giveUpAt = giveUpAt;
			this.onLost = onLost;
		}

		void stop() {
			LeaseRenewals.this.dueAt.remove(this);
		}

		Duration duration() {
			return this.lease;
		}

	}

}
