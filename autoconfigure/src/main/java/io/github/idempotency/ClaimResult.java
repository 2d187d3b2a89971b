package io.github.idempotency;

/**
 * What {@link IdempotencyStore#claim} found.
 *
 * @since 0.1.0
 */
public sealed interface ClaimResult {

	/**
	 * The key was free and now belongs to the caller.
	 *
	 * @param token the owner token that completes or releases the claim
	 */
	record Claimed(String token) implements ClaimResult {
	}

	/**
	 * Another request with the same key and fingerprint holds the claim and has not
	 * finished.
	 */
	record InProgress() implements ClaimResult {
	}

	/**
	 * A request with the same key and fingerprint has finished.
	 *
	 * @param response the response to replay
	 */
	record Completed(StoredResponse response) implements ClaimResult {
	}

	/**
	 * The key belongs to a request with another fingerprint, running or finished.
	 */
	record Mismatch() implements ClaimResult {
	}

}
