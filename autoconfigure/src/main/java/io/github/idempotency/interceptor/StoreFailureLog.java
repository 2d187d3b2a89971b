package io.github.idempotency.interceptor;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.github.idempotency.IdempotencyStoreException;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Logs failures of store calls without flooding the log while Redis is down: one warning
 * when a burst of failures starts, a reminder with the count at most once a minute, each
 * failure at debug level, and one line when the store answers again. Thread-safe.
 */
final class StoreFailureLog {

	private static final Log logger = LogFactory.getLog(IdempotencyLifecycle.class);

	private static final long REMINDER_NANOS = TimeUnit.MINUTES.toNanos(1);

	private final String what;

	private final AtomicInteger failures = new AtomicInteger();

	private final AtomicLong lastWarning = new AtomicLong();

	/**
	 * @param what what failed, as a log line starts, such as "Idempotency store
	 * unavailable"
	 */
	StoreFailureLog(String what) {
		this.what = what;
	}

	void failed(String consequence, Throwable ex) {
		int count = this.failures.incrementAndGet();
		long now = System.nanoTime();
		long last = this.lastWarning.get();
		if ((count == 1 || now - last > REMINDER_NANOS) && this.lastWarning.compareAndSet(last, now)) {
			String burst = (count > 1) ? " (" + count + " failures since it last answered)" : "";
			logger.warn(this.what + burst + "; " + consequence + ": " + describe(ex));
		}
		else if (logger.isDebugEnabled()) {
			logger.debug(this.what + "; " + consequence + ": " + describe(ex));
		}
	}

	// A store failure's message says it all; anything else is named by its type too.
	private static String describe(Throwable ex) {
		return (ex instanceof IdempotencyStoreException) ? ex.getMessage() : ex.toString();
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
