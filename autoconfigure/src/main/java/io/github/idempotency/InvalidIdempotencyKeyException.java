package io.github.idempotency;

/**
 * Thrown instead of running an idempotent method whose key expression gave no usable key:
 * {@code null} where a key is required, empty, longer than
 * {@code idempotency.max-key-length}, or with a control character. The method did not
 * run.
 *
 * @since 0.1.0
 */
public class InvalidIdempotencyKeyException extends IdempotencyException {

	/**
	 * @param message says which operation refused the call, and why
	 */
	public InvalidIdempotencyKeyException(String message) {
		super(message);
	}

}
