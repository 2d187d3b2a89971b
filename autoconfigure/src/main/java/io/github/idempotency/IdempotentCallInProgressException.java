package io.github.idempotency;

/**
 * Thrown instead of running an idempotent method when a call with the same key and
 * arguments is still running (here or on another node) and did not finish within the wait
 * timeout ({@code idempotency.wait-timeout}). The method did not run. Retry later: once
 * the first call has finished, the retry gets its result; if it failed, the retry runs.
 * Message listeners let it propagate, so that the broker delivers the message again.
 *
 * @since 0.1.0
 */
public class IdempotentCallInProgressException extends IdempotencyException {

	/**
	 * @param message says which operation refused the call
	 */
	public IdempotentCallInProgressException(String message) {
		super(message);
	}

}
