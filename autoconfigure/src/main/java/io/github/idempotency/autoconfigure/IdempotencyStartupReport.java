package io.github.idempotency.autoconfigure;

import java.util.UUID;
import java.util.function.IntSupplier;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.annotation.AnnotationIdempotentOperationSource;
import io.github.idempotency.interceptor.IdempotentOperationSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationContextAware;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ApplicationContextEvent;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.ContextRefreshedEvent;

/**
 * Says in one line at startup what the starter protects and where its records go: the
 * number of idempotent operations (HTTP operations, and methods outside web handlers),
 * the store (Redis with its topology and address, the database and table, or memory), and
 * whether the store answered. A store that does not answer is a warning, not a failure:
 * the application starts, and idempotent requests answer 503 until the store comes. The
 * store is asked on a thread of its own, so that a Redis that does not answer never holds
 * up startup.
 */
class IdempotencyStartupReport implements ApplicationListener<ApplicationContextEvent>, ApplicationContextAware {

	private static final Log logger = LogFactory.getLog(IdempotencyStartupReport.class);

	private final IdempotencyStore store;

	private final @Nullable IntSupplier httpOperations;

	private final IntSupplier methodOperations;

	private @Nullable ApplicationContext context;

	private boolean reported;

	// Set before the context stops its beans, the store's connections among them.
	private volatile boolean closing;

	/**
	 * @param store where records go
	 * @param httpOperations counts the idempotent HTTP operations, or {@code null}
	 * outside a servlet web application
	 * @param methodOperations counts the idempotent methods outside web handlers
	 */
	IdempotencyStartupReport(IdempotencyStore store, @Nullable IntSupplier httpOperations,
			IntSupplier methodOperations) {
		this.store = store;
		this.httpOperations = httpOperations;
		this.methodOperations = methodOperations;
	}

	static IntSupplier methodOperations(IdempotentOperationSource operations) {
		return (operations instanceof AnnotationIdempotentOperationSource annotations)
				? annotations::methodOperationCount : () -> 0;
	}

	@Override
	public void setApplicationContext(ApplicationContext context) {
		this.context = context;
	}

	// A child context's refresh reaches its parent's listeners too, possibly before the
	// parent's own handlers are counted: only this context's refresh is reported.
	@Override
	public void onApplicationEvent(ApplicationContextEvent event) {
		if (event.getApplicationContext() != this.context) {
			return;
		}
		if (event instanceof ContextClosedEvent) {
			this.closing = true;
		}
		if (this.reported || !(event instanceof ContextRefreshedEvent)) {
			return;
		}
		this.reported = true;
		String operations = operations();
		Thread probe = new Thread(() -> report(operations), "idempotency-startup-report");
		probe.setDaemon(true);
		probe.start();
	}

	// Methods are named only beside HTTP operations when there are some, as an HTTP
	// application usually has none.
	private String operations() {
		int methods = this.methodOperations.getAsInt();
		String counted = count(methods, "idempotent method");
		if (this.httpOperations == null) {
			return counted;
		}
		String http = count(this.httpOperations.getAsInt(), "idempotent HTTP operation");
		return (methods > 0) ? http + ", " + counted : http;
	}

	private static String count(int count, String what) {
		return count + " " + what + ((count == 1) ? "" : "s");
	}

	private void report(String operations) {
		long start = System.nanoTime();
		try {
			// Any key does: reading one that is absent is the cheapest call every store
			// has. A store that cannot be reached throws IdempotencyStoreException.
			this.store.find("startup-probe-" + UUID.randomUUID());
			long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
			// Answered only after the application closed (its connections not yet shut):
			// the time says nothing of the store either.
			if (this.closing) {
				logger.debug("Idempotency: the application closed before its store answered, in " + millis + " ms");
				return;
			}
			logger.info("Idempotency: " + operations + "; records in " + this.store + ", which answered in " + millis
					+ " ms");
		}
		catch (Throwable ex) {
			if (this.closing) {
				// An application closed as soon as it started (a test, a one-off job)
				// takes the store's connections with it: that says nothing of the store.
				logger.debug("Idempotency: the application closed before its store answered", ex);
				return;
			}
			logger.warn("Idempotency: " + operations + "; records in " + this.store + ", which did not answer ("
					+ ex.getMessage() + "). Idempotent requests get 503 (or run unprotected with"
					+ " idempotency.on-store-failure=proceed) until it does.");
		}
	}

}
