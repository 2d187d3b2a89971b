package io.github.idempotency.interceptor;

/**
 * Told what became of every call of an idempotent operation, a request or a method call,
 * and of calls that lost their lease; the seam for metrics. Called on the request thread,
 * so implementations must be fast and thread-safe.
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
	 * Records the outcome of one request.
	 * @param operation the request method and route pattern, such as
	 * {@code POST /payments} ({@code UNKNOWN} for a method other than the eight standard
	 * ones), or for a method outside HTTP {@code Class#method} or the scope it names;
	 * never a client's key
	 * @param outcome what became of the request
	 */
	void onOutcome(String operation, IdempotencyOutcome outcome);

	/**
	 * Records that a call lost its lease on its key while it ran or before its outcome
	 * was stored: the lease expired (a call slower than its lock timeout, a pause, a
	 * store that lost the key) and another call may have taken the key and run too. The
	 * call's outcome is not stored. Called at most once per call, on the calling thread
	 * or on the thread that renews leases. Does nothing unless overridden.
	 * @param operation the operation, named as in {@link #onOutcome}
	 */
	default void onLeaseLost(String operation) {
	}

}
