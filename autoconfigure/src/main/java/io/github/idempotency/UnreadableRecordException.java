package io.github.idempotency;

/**
 * Thrown by an {@link IdempotencyStore} that found a record it cannot read: one written
 * in another format, corrupted, or not a record at all. Such a record is never replayed
 * and never overwritten; it is answered like a store that cannot be reached.
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
	public UnreadableRecordException(String recordName, String message, Throwable cause) {
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
