package io.github.idempotency.web;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.github.idempotency.IdempotencyStoreException;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Logs store failures without flooding the log while Redis is down: one warning when a
 * burst of failures starts, a reminder with the count at most once a minute, each failure
 * at debug level, and one line when the store answers again. Thread-safe.
 */
final class StoreFailureLog {

	private static final Log logger = LogFactory.getLog(IdempotencyCoordinator.class);

	private static final long REMINDER_NANOS = TimeUnit.MINUTES.toNanos(1);

	private final AtomicInteger failures = new AtomicInteger();

	private final AtomicLong lastWarning = new AtomicLong();

	void failed(String consequence, IdempotencyStoreException ex) {
		int count = this.failures.incrementAndGet();
		long now = System.nanoTime();
		long last = this.lastWarning.get();
		if ((count == 1 || now - last > REMINDER_NANOS) && this.lastWarning.compareAndSet(last, now)) {
			String burst = (count > 1) ? " (" + count + " failures since it last answered)" : "";
			logger.warn("Idempotency store unavailable" + burst + "; " + consequence + ": " + ex.getMessage());
		}
		else if (logger.isDebugEnabled()) {
			logger.debug("Idempotency store unavailable; " + consequence + ": " + ex.getMessage());
		}
	}

	// Called on every successful store call, so the common case is one volatile read.
	void answered() {
		if (this.failures.get() > 0) {
			int count = this.failures.getAndSet(0);
			if (count > 0) {
				logger.info("Idempotency store answers again after " + count + " failed calls");
			}
		}
	}

}
