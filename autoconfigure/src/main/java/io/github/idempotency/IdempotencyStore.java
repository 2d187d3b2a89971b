package io.github.idempotency;

import java.time.Duration;
import java.util.Optional;

/**
 * Keeps one record per idempotency key: who is running the request it names, and, once it
 * has finished, the response to replay.
 *
 * <p>
 * A record is {@linkplain #claim claimed} by exactly one request, which then either
 * {@linkplain #complete completes} it with the response it produced or
 * {@linkplain #release releases} it so that a retry may run again; while it runs, it
 * {@linkplain #renew renews} its lease. Completion, release and renewal are fenced by the
 * owner token handed out by the claim: a request whose lease expired and whose key was
 * claimed again can no longer touch the record. Operators can {@linkplain #find read} and
 * {@linkplain #delete delete} single records.
 *
 * <p>
 * Keys are opaque, fixed-length strings derived from the client's key and its scope;
 * implementations may prefix them but must not interpret them. Every expiry is relative
 * to the store's own clock.
 *
 * <p>
 * Implementations must be thread-safe, and every method must be atomic with respect to
 * every other method on the same key. Failures to reach the backing store are reported as
 * {@link IdempotencyStoreException}.
 *
 * @since 0.1.0
 */
public interface IdempotencyStore {

	/**
	 * Claims the record for a request, or reports what already holds it, in one atomic
	 * step.
	 * @param key the record key
	 * @param fingerprint the fingerprint of the request, kept with the claim so that a
	 * later request with the same key but another payload is recognised while the first
	 * is still running
	 * @param lease how long the claim holds if it is neither completed nor released
	 * @return {@link ClaimResult.Claimed} with a fresh owner token when the key was free,
	 * otherwise the state found
	 * @throws IdempotencyStoreException if the store cannot be reached or holds a record
	 * it cannot read
	 */
	ClaimResult claim(String key, String fingerprint, Duration lease);

	/**
	 * Stores the response of a claimed request, to be replayed for the given retention. A
	 * record completed under the same token already is left as it is, and counts as
	 * stored: a completion is tried again after a failure, which may come after the store
	 * kept the response (a reply lost on the way back).
	 * @param key the record key
	 * @param token the owner token returned by {@link #claim}
	 * @param response the response the client received
	 * @param retention how long the response is replayed, counted from now
	 * @return {@code true} if stored, now or by an earlier completion with the token;
	 * {@code false} if the claim no longer belongs to the token (its lease expired)
	 * @throws IdempotencyStoreException if the store cannot be reached
	 */
	boolean complete(String key, String token, StoredResponse response, Duration retention);

	/**
	 * Whether {@link #completeInCurrentTransaction} can store a record now, on this
	 * thread, within the transaction the thread runs, so that the record commits or rolls
	 * back with the caller's own writes. Stores outside the caller's database never can.
	 * @return {@code true} if a completion now can join the current transaction
	 * @since 0.1.0
	 */
	default boolean canCompleteInCurrentTransaction() {
		return false;
	}

	/**
	 * Stores the response of a claimed request as {@link #complete} does, but within the
	 * transaction the calling thread runs: the record is stored only if that transaction
	 * commits. A caller that rolls back must then {@linkplain #release release} the
	 * claim.
	 * @param key the record key
	 * @param token the owner token returned by {@link #claim}
	 * @param response the response the client received
	 * @param retention how long the response is replayed, counted from now
	 * @return {@code true} if stored (pending the commit); {@code false} if the claim no
	 * longer belongs to the token
	 * @throws IdempotencyStoreException if the store cannot be reached
	 * @throws UnsupportedOperationException if {@link #canCompleteInCurrentTransaction}
	 * is {@code false}
	 * @since 0.1.0
	 */
	default boolean completeInCurrentTransaction(String key, String token, StoredResponse response,
			Duration retention) {
		throw new UnsupportedOperationException(this + " cannot complete records within a caller's transaction");
	}

	/**
	 * Extends a claim that is still held by the given token, so that a request running
	 * longer than its first lease keeps its key.
	 * @param key the record key
	 * @param token the owner token returned by {@link #claim}
	 * @param lease the new lease, counted from now
	 * @return {@code true} if extended; {@code false} if the claim no longer belongs to
	 * the token
	 * @throws IdempotencyStoreException if the store cannot be reached
	 */
	boolean renew(String key, String token, Duration lease);

	/**
	 * Deletes a claim that is still held by the given token, so that the next request
	 * with the key runs again.
	 * @param key the record key
	 * @param token the owner token returned by {@link #claim}
	 * @return {@code true} if released; {@code false} if the claim no longer belongs to
	 * the token
	 * @throws IdempotencyStoreException if the store cannot be reached
	 */
	boolean release(String key, String token);

	/**
	 * Reads one record, for operators.
	 * @param key the record key
	 * @return the record, or empty if there is none
	 * @throws IdempotencyStoreException if the store cannot be reached or holds a record
	 * it cannot read
	 */
	Optional<IdempotencyRecord> find(String key);

	/**
	 * Deletes one record whatever its state or owner, for operators: a stuck claim is
	 * freed, a stored response forgotten, and the next request with the key runs the
	 * handler.
	 * @param key the record key
	 * @return {@code true} if there was a record; an expired one, which {@link #find}
	 * does not return either, counts as none
	 * @throws IdempotencyStoreException if the store cannot be reached
	 */
	boolean delete(String key);

}
