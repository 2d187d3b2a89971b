package io.github.idempotency;

/**
 * Thrown by an {@link IdempotencyStore} that cannot answer: the backing store is
 * unreachable, too slow, or holds a record this version cannot read. Its subclass
 * {@link IdempotentOutcomeNotStoredException} follows a call that ran.
 *
 * @since 0.1.0
 */
public class IdempotencyStoreException extends IdempotencyException {

	public IdempotencyStoreException(String message) {
		super(message);
	}

	public IdempotencyStoreException(String message, Throwable cause) {
		super(message, cause);
	}

}
