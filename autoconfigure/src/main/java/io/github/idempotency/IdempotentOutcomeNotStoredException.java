package io.github.idempotency;

import org.jspecify.annotations.Nullable;

/**
 * Thrown when the outcome of a call could not be stored within the transaction its writes
 * are in (the JDBC store's completion within the transaction): the store failed, or the
 * call's lease on its key ran out. The transaction rolls back, so that no write outlives
 * its record, and the key is released. Unlike a store that cannot be reached before a
 * call, the call has run: a message listener's container treats it as the listener's own
 * failure, for its error handler to retry or give up on, rather than as an outage to wait
 * out, since a failure that recurs on every delivery would otherwise run the listener
 * forever.
 *
 * @since 0.1.0
 */
public class IdempotentOutcomeNotStoredException extends IdempotencyStoreException {

	/**
	 * @param message what failed
	 * @param cause the store's failure, or {@code null} for a lease that ran out
	 */
	public IdempotentOutcomeNotStoredException(String message, @Nullable Throwable cause) {
		super(message, cause);
	}

}
