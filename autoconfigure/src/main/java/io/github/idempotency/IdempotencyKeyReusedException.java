package io.github.idempotency;

/**
 * Thrown instead of running an idempotent method when its key was already used for a call
 * with other arguments (another fingerprint), running or finished. The method did not
 * run, and the other call's result is not returned: a reused key is a bug in the caller,
 * or two different operations given one key. Retrying it will not help.
 *
 * @since 0.1.0
 */
public class IdempotencyKeyReusedException extends IdempotencyException {

	/**
	 * @param message says which operation refused the call
	 */
	public IdempotencyKeyReusedException(String message) {
		super(message);
	}

}
