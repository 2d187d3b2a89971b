package io.github.idempotency;

import org.jspecify.annotations.Nullable;

/**
 * Thrown by an {@link IdempotencyStore} that found a record it cannot read: one written
 * in another format, corrupted, or not a record at all, or one whose kept result no
 * longer fits the method (its return type or final exceptions changed). Such a record is
 * never replayed and never overwritten; over HTTP it is answered like a store that cannot
 * be reached, and a message listener's container treats it as a failure a retry does not
 * fix.
 *
 * @since 0.1.0
 */
public class UnreadableRecordException extends IdempotencyStoreException {

	private final String recordName;

	/**
	 * @param recordName where the record lives, as the store names it
	 * @param message what is wrong with it
	 * @param cause what reading it threw, or {@code null}
	 */
	public UnreadableRecordException(String recordName, String message, @Nullable Throwable cause) {
		super("Record " + recordName + " cannot be read: " + message, cause);
		this.recordName = recordName;
	}

	/**
	 * Where the record lives, as the store names it (for Redis, the key).
	 * @return the record's name
	 */
	public String getRecordName() {
		return this.recordName;
	}

}
