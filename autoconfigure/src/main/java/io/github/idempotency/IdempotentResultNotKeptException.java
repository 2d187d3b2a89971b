package io.github.idempotency;

/**
 * Thrown instead of running an idempotent method again when its first call with the same
 * key ran but returned a value that could not be kept: the application's JSON mapper
 * could not write it, or could not read it back as the method's return type. The method
 * is not run a second time, since it already did its work; the value is lost. Return a
 * type the mapper writes and reads back.
 *
 * @since 0.1.0
 */
public class IdempotentResultNotKeptException extends IdempotencyException {

	/**
	 * @param message says which operation refused the call
	 */
	public IdempotentResultNotKeptException(String message) {
		super(message);
	}

}
