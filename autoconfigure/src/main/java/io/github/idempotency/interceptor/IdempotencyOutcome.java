package io.github.idempotency.interceptor;

import java.util.Locale;

/**
 * What became of a call of an idempotent operation (a request, or a method call outside
 * HTTP), as metrics and logs name it.
 *
 * @since 0.1.0
 */
public enum IdempotencyOutcome {

	/**
	 * The key was claimed and the handler ran.
	 */
	EXECUTED,

	/**
	 * The stored response was replayed.
	 */
	REPLAYED,

	/**
	 * A request with the key was still running: 409.
	 */
	CONFLICT,

	/**
	 * The key belonged to a request with another payload: 422.
	 */
	MISMATCH,

	/**
	 * The key was missing or malformed: 400.
	 */
	INVALID_KEY,

	/**
	 * The body was too large to fingerprint: 413.
	 */
	TOO_LARGE,

	/**
	 * The body ended before the length it announced, or could not be read in full, so the
	 * handler did not run: 400.
	 */
	INCOMPLETE,

	/**
	 * The store could not be reached: 503, or the handler ran unprotected with
	 * {@code on-store-failure: proceed}.
	 */
	STORE_UNAVAILABLE,

	/**
	 * The store holds a record under the key that it cannot read (another format, or
	 * corrupt): answered like {@link #STORE_UNAVAILABLE}, and the record is left as it
	 * is.
	 */
	UNREADABLE_RECORD,

	/**
	 * No key was sent to an endpoint where it is optional, so the request ran without
	 * idempotency.
	 */
	BYPASSED;

	/**
	 * The value of the {@code outcome} tag, such as {@code invalid_key}.
	 * @return the tag value
	 */
	public String tagValue() {
		return name().toLowerCase(Locale.ROOT);
	}

}
