package io.github.idempotency.interceptor;

import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.StoredResponse;

/**
 * What {@link IdempotencyLifecycle#begin} decided for one call; each transport turns it
 * into its own answer (an HTTP replay or problem, a return value or an exception).
 *
 * @since 0.1.0
 */
public sealed interface Decision {

	/**
	 * The key is ours: run the operation, then complete or release the claim.
	 *
	 * @param claim the claim to complete or release
	 */
	record Proceed(Claim claim) implements Decision {
	}

	/**
	 * A call with the same key and fingerprint finished: answer with what it stored.
	 *
	 * @param response the stored outcome
	 */
	record Replay(StoredResponse response) implements Decision {
	}

	/**
	 * A call with the same key and fingerprint is still running, and did not finish
	 * within the wait timeout.
	 */
	record InProgress() implements Decision {
	}

	/**
	 * The key belongs to a call with another fingerprint.
	 */
	record Mismatch() implements Decision {
	}

	/**
	 * The store failed and the policy says to run without idempotency: run the operation,
	 * and store nothing.
	 */
	record Unprotected() implements Decision {
	}

	/**
	 * The store failed and the policy says to refuse the call.
	 *
	 * @param failure what the store threw
	 */
	record Unavailable(IdempotencyStoreException failure) implements Decision {
	}

}
