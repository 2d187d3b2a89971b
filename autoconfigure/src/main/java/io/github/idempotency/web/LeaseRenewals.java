package io.github.idempotency.web;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.IdempotencyStoreException;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Keeps the claims of running requests alive. Claims are only registered and unregistered
 * on the request thread; one background thread looks at them a few times a second and
 * renews those that are due. So a request that finishes within its first renewal
 * interval, the common case, costs two map operations and no Redis call, and wakes no
 * thread. Thread-safe.
 */
final class LeaseRenewals implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(IdempotencyCoordinator.class);

	private static final long TICK_MILLIS = 50;

	private final IdempotencyStore store;

	private final Map<Claim, Long> dueAt = new ConcurrentHashMap<>();

	private final ScheduledExecutorService ticker;

	LeaseRenewals(IdempotencyStore store) {
		this.store = store;
		this.ticker = Executors.newSingleThreadScheduledExecutor((task) -> {
			Thread thread = new Thread(task, "idempotency-lease-renewal");
			thread.setDaemon(true);
			return thread;
		});
		this.ticker.scheduleWithFixedDelay(this::renewDue, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
	}

	/**
	 * Starts renewing a claim every interval until {@link Claim#stop()}.
	 */
	Claim start(String recordKey, String token, Duration lease, Duration interval) {
		Claim claim = new Claim(recordKey, token, lease, interval.toNanos());
		this.dueAt.put(claim, System.nanoTime() + claim.intervalNanos);
		return claim;
	}

	private void renewDue() {
		long now = System.nanoTime();
		this.dueAt.forEach((claim, due) -> {
			if (now - due < 0) {
				return;
			}
			try {
				if (this.store.renew(claim.recordKey, claim.token, claim.lease)) {
					this.dueAt.replace(claim, due, System.nanoTime() + claim.intervalNanos);
				}
				else if (this.dueAt.remove(claim) != null) {
					logger.warn("Lease on idempotency record " + claim.recordKey + " was lost while its request was"
							+ " running; a retry may run the handler again, and this request's response will not be"
							+ " stored");
				}
			}
			catch (IdempotencyStoreException ex) {
				logger.warn("Could not renew the lease on idempotency record " + claim.recordKey
						+ "; trying again shortly: " + ex.getMessage());
			}
			catch (RuntimeException ex) {
				logger.error("Unexpected failure renewing the lease on idempotency record " + claim.recordKey, ex);
			}
		});
	}

	@Override
	public void close() {
		this.ticker.shutdownNow();
	}

	/**
	 * One claim being kept alive. Identity equality: every claim is its own map key.
	 */
	final class Claim {

		private final String recordKey;

		private final String token;

		private final Duration lease;

		private final long intervalNanos;

		private Claim(String recordKey, String token, Duration lease, long intervalNanos) {
			this.recordKey = recordKey;
			this.token = token;
			this.lease = lease;
			this.intervalNanos = intervalNanos;
		}

		void stop() {
			LeaseRenewals.this.dueAt.remove(this);
		}

	}

}
