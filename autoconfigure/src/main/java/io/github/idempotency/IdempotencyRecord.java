package io.github.idempotency;

import java.time.Duration;
import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * What an operator sees of one record: its state, when it was written, how long it has
 * left, and the stored response once there is one.
 *
 * @param state whether the request is still running or has finished
 * @param fingerprint the fingerprint of the request that claimed the key
 * @param createdAt when the key was claimed, as the claiming instance's clock read it;
 * informational only
 * @param completedAt when the response was stored, or {@code null} while in progress
 * @param expiresIn how long until the store forgets the record
 * @param response the stored response, or {@code null} while in progress
 * @since 0.1.0
 */
public record IdempotencyRecord(State state, String fingerprint, @Nullable Instant createdAt,
		@Nullable Instant completedAt, Duration expiresIn, @Nullable StoredResponse response) {

	/**
	 * The state of a record.
	 */
	public enum State {

		/**
		 * Claimed by a request that has not finished.
		 */
		IN_PROGRESS,

		/**
		 * Finished; the response is replayed.
		 */
		COMPLETED

	}

}
