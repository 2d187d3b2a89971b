package io.github.idempotency.store.jdbc;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.context.SmartLifecycle;
import org.springframework.util.Assert;

/**
 * Deletes the records of a {@link JdbcIdempotencyStore} whose retention or lease has
 * passed, on a thread of its own: once at start, then an interval after each run, or at
 * once after a run that found more expired rows than it may delete. Rows go in batches of
 * bounded size so that no statement holds many at once. Expired rows already count as
 * absent; purging only keeps the table from growing. Several instances of an application
 * may purge one table at the same time.
 *
 * @since 0.1.0
 */
public class JdbcRecordPurger implements SmartLifecycle {

	private static final Log logger = LogFactory.getLog(JdbcRecordPurger.class);

	// A run stops after this many batches, so that a table far behind is caught up over
	// several runs rather than by one that never ends.
	private static final int MAX_BATCHES_PER_RUN = 100;

	private final JdbcIdempotencyStore store;

	private final Duration interval;

	private final int batchSize;

	private @Nullable ScheduledExecutorService executor;

	/**
	 * @param store the store whose table is purged
	 * @param interval the time between runs
	 * @param batchSize the most rows one statement deletes
	 */
	public JdbcRecordPurger(JdbcIdempotencyStore store, Duration interval, int batchSize) {
		Assert.isTrue(!interval.isNegative() && !interval.isZero(), "interval must be positive");
		Assert.isTrue(batchSize > 0, "batchSize must be positive");
		this.store = store;
		this.interval = interval;
		this.batchSize = batchSize;
	}

	/**
	 * Deletes expired records, batch after batch, until a batch comes back short.
	 * @return how many were deleted
	 */
	public int purge() {
		int total = 0;
		// Stopped while it runs: the rest waits for the next start.
		for (int batch = 0; batch < MAX_BATCHES_PER_RUN && !Thread.currentThread().isInterrupted(); batch++) {
			int deleted = this.store.purgeExpired(this.batchSize);
			total += deleted;
			if (deleted < this.batchSize) {
				break;
			}
		}
		return total;
	}

	private void run(ScheduledExecutorService owner) {
		boolean behind = false;
		try {
			int deleted = purge();
			behind = deleted >= MAX_BATCHES_PER_RUN * (long) this.batchSize;
			if (deleted > 0 && logger.isDebugEnabled()) {
				logger.debug("Purged " + deleted + " expired idempotency records from " + this.store);
			}
		}
		// Whatever went wrong, the next run must still come.
		catch (RuntimeException ex) {
			if (!owner.isShutdown()) {
				logger.warn("Could not purge expired idempotency records; trying again in " + this.interval + ": "
						+ ex.getMessage());
			}
		}
		// A run that stopped at its last batch leaves expired rows: records expire faster
		// than one run an interval deletes them, and waiting would let the table grow.
		schedule(owner, behind ? Duration.ZERO : this.interval);
	}

	// Only on the executor the run came from: one that outlived a stop must not start a
	// second series of runs beside the next start's.
	private synchronized void schedule(ScheduledExecutorService owner, Duration delay) {
		if (this.executor == owner && !owner.isShutdown()) {
			owner.schedule(() -> run(owner), delay.toMillis(), TimeUnit.MILLISECONDS);
		}
	}

	@Override
	public synchronized void start() {
		if (this.executor == null) {
			ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor((task) -> {
				Thread thread = new Thread(task, "idempotency-purge");
				thread.setDaemon(true);
				return thread;
			});
			this.executor = executor;
			schedule(executor, Duration.ZERO);
		}
	}

	@Override
	public synchronized void stop() {
		if (this.executor != null) {
			this.executor.shutdownNow();
			this.executor = null;
		}
	}

	@Override
	public synchronized boolean isRunning() {
		return this.executor != null;
	}

}
