package io.github.idempotency.interceptor;

/**
 * Told what became of every call of an idempotent operation, a request or a method call;
 * the seam for metrics. Called on the threads that make and renew calls, so
 * implementations must be fast and thread-safe.
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface IdempotencyOutcomeListener {

	/**
	 * A listener that does nothing.
	 */
	IdempotencyOutcomeListener NONE = (operation, outcome) -> {
	};

	/**
	 * Records an outcome of one call: the one decided when it began, and for a call that
	 * ran, once more if it was then released, lost its lease or could not store its
	 * outcome (see {@link IdempotencyOutcome}).
	 * @param operation the request method and route pattern, such as
	 * {@code POST /payments} ({@code UNKNOWN} for a method other than the eight standard
	 * ones), or for a method outside HTTP {@code Class#method} or the scope it names;
	 * never a client's key
	 * @param outcome what became of the call
	 */
	void onOutcome(String operation, IdempotencyOutcome outcome);

}
