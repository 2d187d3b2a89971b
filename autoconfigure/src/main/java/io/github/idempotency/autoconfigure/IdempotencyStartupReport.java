package io.github.idempotency.autoconfigure;

import java.util.UUID;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.web.IdempotentHandlerVerifier;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextRefreshedEvent;

/**
 * Says in one line at startup what the starter protects and where its records go: the
 * number of idempotent operations, the store (Redis with its topology and address, or
 * memory), and whether the store answered. A store that does not answer is a warning, not
 * a failure: the application starts, and idempotent requests answer 503 until the store
 * comes.
 */
class IdempotencyStartupReport implements ApplicationListener<ContextRefreshedEvent> {

	private static final Log logger = LogFactory.getLog(IdempotencyStartupReport.class);

	private final IdempotencyStore store;

	private final IdempotentHandlerVerifier handlers;

	private boolean reported;

	IdempotencyStartupReport(IdempotencyStore store, IdempotentHandlerVerifier handlers) {
		this.store = store;
		this.handlers = handlers;
	}

	@Override
	public void onApplicationEvent(ContextRefreshedEvent event) {
		if (this.reported) {
			return;
		}
		this.reported = true;
		int count = this.handlers.operationCount();
		String operations = count + " idempotent HTTP operation" + ((count == 1) ? "" : "s");
		long start = System.nanoTime();
		try {
			// Any key does: reading one that is absent is the cheapest call every store
			// has. A store that cannot be reached throws IdempotencyStoreException.
			this.store.find("startup-probe-" + UUID.randomUUID());
			long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
			logger.info("Idempotency: " + operations + "; records in " + this.store + ", which answered in " + millis
					+ " ms");
		}
		catch (RuntimeException ex) {
			logger.warn("Idempotency: " + operations + "; records in " + this.store + ", which did not answer ("
					+ ex.getMessage() + "). Idempotent requests get 503 (or run unprotected with"
					+ " idempotency.on-store-failure=proceed) until it does.");
		}
	}

}
