package io.github.idempotency.store.memory;

import io.github.idempotency.store.OwnerTokens;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyRecord;
import io.github.idempotency.IdempotencyRecord.State;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.StoredResponse;
import org.jspecify.annotations.Nullable;

/**
 * An {@link IdempotencyStore} in this JVM's memory: for a single node, and for tests.
 * Records are lost on restart and are not shared with other nodes, so it protects against
 * retries only while every request reaches this process.
 *
 * <p>
 * Expiry follows {@link System#nanoTime()}, which wall-clock changes do not move. Expired
 * records are removed when their key is next used, and by a sweep after as many claims as
 * there are records (at least a few thousand). Thread-safe.
 *
 * @since 0.1.0
 */
public class InMemoryIdempotencyStore implements IdempotencyStore {

	private static final int CLAIMS_BETWEEN_SWEEPS = 4096;

	private final Map<String, Entry> entries = new ConcurrentHashMap<>();

	private final AtomicInteger claimsSinceSweep = new AtomicInteger();

	@Override
	public ClaimResult claim(String key, String fingerprint, Duration lease) {
		sweepOccasionally();
		String token = OwnerTokens.newToken();
		long now = System.nanoTime();
		ClaimResult[] result = new ClaimResult[1];
		this.entries.compute(key, (k, existing) -> {
			if (existing == null || existing.isExpired(now)) {
				result[0] = new ClaimResult.Claimed(token);
				return new Entry(fingerprint, token, null, now + lease.toNanos(), System.currentTimeMillis(), 0);
			}
			if (!existing.fingerprint.equals(fingerprint)) {
				result[0] = new ClaimResult.Mismatch();
			}
			else if (existing.response == null) {
				result[0] = new ClaimResult.InProgress();
			}
			else {
				result[0] = new ClaimResult.Completed(existing.response);
			}
			return existing;
		});
		return result[0];
	}

	@Override
	public boolean complete(String key, String token, StoredResponse response, Duration retention) {
		boolean[] completed = new boolean[1];
		this.entries.computeIfPresent(key, (k, existing) -> {
			long now = System.nanoTime();
			if (!existing.isHeldBy(token, now)) {
				if (existing.isExpired(now)) {
					return null;
				}
				// Completed under this claim already: the first response stays.
				completed[0] = existing.response != null && token.equals(existing.token);
				return existing;
			}
			completed[0] = true;
			return new Entry(existing.fingerprint, token, response, now + retention.toNanos(), existing.createdAt,
					System.currentTimeMillis());
		});
		return completed[0];
	}

	@Override
	public boolean renew(String key, String token, Duration lease) {
		boolean[] renewed = new boolean[1];
		this.entries.computeIfPresent(key, (k, existing) -> {
			long now = System.nanoTime();
			if (!existing.isHeldBy(token, now)) {
				return existing.isExpired(now) ? null : existing;
			}
			renewed[0] = true;
			return new Entry(existing.fingerprint, token, null, now + lease.toNanos(), existing.createdAt, 0);
		});
		return renewed[0];
	}

	@Override
	public boolean release(String key, String token) {
		boolean[] released = new boolean[1];
		this.entries.computeIfPresent(key, (k, existing) -> {
			long now = System.nanoTime();
			if (existing.isHeldBy(token, now)) {
				released[0] = true;
				return null;
			}
			return existing.isExpired(now) ? null : existing;
		});
		return released[0];
	}

	@Override
	public Optional<IdempotencyRecord> find(String key) {
		Entry entry = this.entries.get(key);
		long now = System.nanoTime();
		if (entry == null || entry.isExpired(now)) {
			return Optional.empty();
		}
		State state = (entry.response != null) ? State.COMPLETED : State.IN_PROGRESS;
		Instant completedAt = (entry.response != null) ? Instant.ofEpochMilli(entry.completedAt) : null;
		return Optional.of(new IdempotencyRecord(state, entry.fingerprint, Instant.ofEpochMilli(entry.createdAt),
				completedAt, Duration.ofNanos(entry.expiresAt - now), entry.response));
	}

	@Override
	public boolean delete(String key) {
		Entry removed = this.entries.remove(key);
		return removed != null && !removed.isExpired(System.nanoTime());
	}

	// A sweep visits every record, so it waits for at least as many claims as there are
	// records: each claim then pays for visiting about one, however many are kept.
	private void sweepOccasionally() {
		if (this.claimsSinceSweep.incrementAndGet() >= Math.max(CLAIMS_BETWEEN_SWEEPS, this.entries.size())) {
			this.claimsSinceSweep.set(0);
			long now = System.nanoTime();
			this.entries.values().removeIf((entry) -> entry.isExpired(now));
		}
	}

	// Kept lean, as a store may hold millions: times as numbers rather than Instants. The
	// token stays once the response is stored, so that a completion tried again finds
	// its own.
	private record Entry(String fingerprint, String token, @Nullable StoredResponse response, long expiresAt,
			long createdAt, long completedAt) {

		boolean isExpired(long now) {
			return now - this.expiresAt >= 0;
		}

		boolean isHeldBy(String token, long now) {
			return this.response == null && token.equals(this.token) && !isExpired(now);
		}

	}

	/**
	 * Where records live, for logs.
	 */
	@Override
	public String toString() {
		return "memory (this instance only: a retry that reaches another instance, or follows a restart, runs again)";
	}

}
