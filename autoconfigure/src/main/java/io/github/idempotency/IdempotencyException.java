package io.github.idempotency;

/**
 * What an idempotent method throws, besides its own exceptions, when it is not run: a
 * duplicate still in progress, a key reused with other arguments, an unusable key, or a
 * store that cannot be reached. Catching it catches them all.
 *
 * @since 0.1.0
 */
public abstract class IdempotencyException extends RuntimeException {

	protected IdempotencyException(String message) {
		super(message);
	}

	protected IdempotencyException(String message, Throwable cause) {
		super(message, cause);
	}

}
