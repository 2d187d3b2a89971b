package io.github.idempotency.interceptor;

import java.util.Locale;

/**
 * What became of a call of an idempotent operation (a request, or a method call outside
 * HTTP), as metrics and logs name it. A call has one of the outcomes decided when it
 * begins (a method call whose fingerprint expression fails, or whose key expression calls
 * a method that throws, has none: it counts as the method throwing); a call that ran may
 * later have one more, the first of {@link #RELEASED}, {@link #LEASE_LOST} and
 * {@link #NOT_STORED} that befalls it.
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
	 * A call with the key was still running: 409.
	 */
	IN_PROGRESS,

	/**
	 * The key belonged to a call with another payload: 422.
	 */
	MISMATCH,

	/**
	 * No key was sent to an operation that requires one: 400.
	 */
	MISSING,

	/**
	 * The key was malformed or sent more than once (400), or a method's key expression
	 * failed or gave an unusable key. A request whose key expression finds nothing in its
	 * body has no key: {@link #MISSING}.
	 */
	INVALID,

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
	 * The store could not be reached to claim the key: 503, or the handler ran
	 * unprotected with {@code on-store-failure: proceed}.
	 */
	STORE_ERROR,

	/**
	 * The store holds a record under the key that it cannot read (another format, or
	 * corrupt): answered like a {@link #STORE_ERROR} when claiming, and the record is
	 * left as it is.
	 */
	UNREADABLE_RECORD,

	/**
	 * No key was sent to an endpoint where it is optional, so the request ran without
	 * idempotency.
	 */
	BYPASSED,

	/**
	 * A call already counted as {@link #EXECUTED} gave its key up, so that a retry runs
	 * again: it failed (a server error, an exception), its response could not be kept, or
	 * its transaction rolled back.
	 */
	RELEASED,

	/**
	 * A call already counted as {@link #EXECUTED} lost its lease on the key while it ran
	 * or before its outcome was stored: the lease expired (a call slower than its lock
	 * timeout, a pause, a store that lost the key) and another call may have taken the
	 * key and run too. The call's outcome is not stored.
	 */
	LEASE_LOST,

	/**
	 * A call already counted as {@link #EXECUTED} whose outcome the store failed to keep:
	 * retries are told it is in progress until its lock timeout passes, then run again.
	 */
	NOT_STORED;

	/**
	 * The value of the {@code outcome} tag, such as {@code in_progress}.
	 * @return the tag value
	 */
	public String tagValue() {
		return name().toLowerCase(Locale.ROOT);
	}

}
