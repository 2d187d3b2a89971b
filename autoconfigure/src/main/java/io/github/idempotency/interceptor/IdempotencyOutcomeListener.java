package io.github.idempotency.interceptor;

/**
 * Told what became of every call of an idempotent operation, a request or a method call;
 * the seam for metrics. Called on the request thread, so implementations must be fast and
 * thread-safe.
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
	 * {@code POST /payments}, or for a method outside HTTP {@code Class#method} or the
	 * scope it names; never a client's key
	 * @param outcome what became of the request
	 */
	void onOutcome(String operation, IdempotencyOutcome outcome);

}
