package io.github.idempotency.interceptor;

import java.time.Duration;
import java.util.Optional;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyRecord;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.StoredResponse;

/**
 * A real store behind a fault that each claim, completion, renewal and release meets
 * first, and each claim's, completion's and renewal's answer meets on its way back: a
 * test's way to make such calls fail or stall as an unreachable or slow store's would, or
 * an answer come late or be lost. Reads and deletes reach the store directly.
 */
record FaultyStore(IdempotencyStore store, Fault fault) implements IdempotencyStore {

	@Override
	public ClaimResult claim(String key, String fingerprint, Duration lease) {
		this.fault.before("claim", key);
		ClaimResult result = this.store.claim(key, fingerprint, lease);
		this.fault.after("claim", key);
		return result;
	}

	@Override
	public boolean complete(String key, String token, StoredResponse response, Duration retention) {
		this.fault.before("complete", key);
		boolean stored = this.store.complete(key, token, response, retention);
		this.fault.after("complete", key);
		return stored;
	}

	@Override
	public boolean renew(String key, String token, Duration lease) {
		this.fault.before("renew", key);
		boolean renewed = this.store.renew(key, token, lease);
		this.fault.after("renew", key);
		return renewed;
	}

	@Override
	public boolean release(String key, String token) {
		this.fault.before("release", key);
		return this.store.release(key, token);
	}

	@Override
	public Optional<IdempotencyRecord> find(String key) {
		return this.store.find(key);
	}

	@Override
	public boolean delete(String key) {
		return this.store.delete(key);
	}

	/**
	 * What a call meets before it reaches the store.
	 */
	@FunctionalInterface
	interface Fault {

		void before(String operation, String key);

		default void after(String operation, String key) {
		}

	}

}
