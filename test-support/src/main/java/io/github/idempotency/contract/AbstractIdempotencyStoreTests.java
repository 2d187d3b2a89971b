package io.github.idempotency.contract;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyRecord;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.StoredResponse;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The contract every {@link IdempotencyStore} fulfils. A store implementation's test
 * extends this class and supplies the store; a new store that does not pass it is not
 * done. The Redis store passes it (standalone, on a Redis Cluster and on Valkey), and so
 * do the JDBC store on PostgreSQL and MariaDB and the in-memory store.
 *
 * @since 0.1.0
 */
public abstract class AbstractIdempotencyStoreTests {

	private static final Duration LEASE = Duration.ofSeconds(30);

	private static final Duration RETENTION = Duration.ofMinutes(5);

	/**
	 * The store under test. Called for every call a test makes to the store, from many
	 * threads at once in the concurrency tests: return one instance (a field of the
	 * test), not a new store per call.
	 * @return the store
	 */
	protected abstract IdempotencyStore store();

	/**
	 * Runs work in a transaction the store can join (its
	 * {@code canCompleteInCurrentTransaction()} then says so), and commits it or rolls it
	 * back, for the tests of completions that join the caller's transaction. The default
	 * skips those tests: override it for a store that can join one.
	 * @param commit whether to commit the transaction, or roll it back
	 * @param work what runs in the transaction
	 */
	protected void inTransaction(boolean commit, Runnable work) {
		assumeTrue(false, "the store joins no transaction");
	}

	private static String newKey() {
		return UUID.randomUUID().toString().replace("-", "");
	}

	private static StoredResponse response(int status, String body) {
		Map<String, List<String>> headers = new LinkedHashMap<>();
		headers.put("Content-Type", List.of("application/json"));
		headers.put("Location", List.of("/payments/42"));
		headers.put("Link", List.of("</a>; rel=\"a\"", "</b>; rel=\"b\""));
		return new StoredResponse(status, headers, body.getBytes(StandardCharsets.UTF_8));
	}

	@Test
	void claimWhenKeyIsFreeShouldHandOutToken() {
		ClaimResult result = store().claim(newKey(), "fp", LEASE);
		assertThat(result).isInstanceOf(ClaimResult.Claimed.class);
		assertThat(((ClaimResult.Claimed) result).token()).hasSizeGreaterThanOrEqualTo(32);
	}

	@Test
	void claimWhenKeyIsHeldWithSameFingerprintShouldReportInProgress() {
		String key = newKey();
		store().claim(key, "fp", LEASE);
		assertThat(store().claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.InProgress.class);
	}

	@Test
	void claimWhenKeyIsHeldWithOtherFingerprintShouldReportMismatch() {
		String key = newKey();
		store().claim(key, "fp", LEASE);
		assertThat(store().claim(key, "other", LEASE)).isInstanceOf(ClaimResult.Mismatch.class);
	}

	@Test
	void claimWhenCompletedShouldReturnStoredResponseExactly() {
		String key = newKey();
		String token = claimed(key, "fp");
		StoredResponse response = new StoredResponse(201, response(201, "").headers(),
				new byte[] { 0, (byte) 0xff, '\r', '\n', 'x', (byte) 0xc3 });
		assertThat(store().complete(key, token, response, RETENTION)).isTrue();
		ClaimResult result = store().claim(key, "fp", LEASE);
		assertThat(result).isEqualTo(new ClaimResult.Completed(response));
	}

	@Test
	void claimWhenCompletedWithoutHeadersOrBodyShouldReturnEmptyResponse() {
		String key = newKey();
		String token = claimed(key, "fp");
		StoredResponse response = new StoredResponse(204, Map.of(), new byte[0]);
		store().complete(key, token, response, RETENTION);
		assertThat(store().claim(key, "fp", LEASE)).isEqualTo(new ClaimResult.Completed(response));
	}

	@Test
	void claimWhenCompletedWithOtherFingerprintShouldReportMismatch() {
		String key = newKey();
		String token = claimed(key, "fp");
		store().complete(key, token, response(200, "{}"), RETENTION);
		assertThat(store().claim(key, "other", LEASE)).isInstanceOf(ClaimResult.Mismatch.class);
	}

	@Test
	void completeWithAnotherTokenShouldChangeNothing() {
		String key = newKey();
		claimed(key, "fp");
		assertThat(store().complete(key, "not-the-owner", response(200, "{}"), RETENTION)).isFalse();
		assertThat(store().claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.InProgress.class);
	}

	@Test
	void completeWhenKeyIsAbsentShouldStoreNothing() {
		String key = newKey();
		assertThat(store().complete(key, "token", response(200, "{}"), RETENTION)).isFalse();
		assertThat(store().claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
	}

	// A completion is tried again when the store failed to answer, which it may do after
	// it stored the response: the owner learns that its response is kept.
	@Test
	void completeTwiceShouldReportStoredAndKeepFirstResponse() {
		String key = newKey();
		String token = claimed(key, "fp");
		assertThat(store().complete(key, token, response(201, "first"), RETENTION)).isTrue();
		assertThat(store().complete(key, token, response(201, "second"), RETENTION)).isTrue();
		assertThat(store().claim(key, "fp", LEASE)).isEqualTo(new ClaimResult.Completed(response(201, "first")));
	}

	@Test
	void releaseByOwnerShouldFreeKey() {
		String key = newKey();
		String token = claimed(key, "fp");
		assertThat(store().release(key, token)).isTrue();
		assertThat(store().claim(key, "other", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
	}

	@Test
	void releaseWithAnotherTokenShouldKeepClaim() {
		String key = newKey();
		claimed(key, "fp");
		assertThat(store().release(key, "not-the-owner")).isFalse();
		assertThat(store().claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.InProgress.class);
	}

	@Test
	void releaseWhenCompletedShouldKeepResponse() {
		String key = newKey();
		String token = claimed(key, "fp");
		store().complete(key, token, response(200, "{}"), RETENTION);
		assertThat(store().release(key, token)).isFalse();
		assertThat(store().claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.Completed.class);
	}

	@Test
	void claimWhenLeaseExpiredShouldHandKeyToNewOwner() throws InterruptedException {
		String key = newKey();
		store().claim(key, "fp", Duration.ofMillis(100));
		Thread.sleep(250);
		assertThat(store().claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
	}

	@Test
	void completeAfterLeaseWasTakenOverShouldNotOverwriteNewOwner() throws InterruptedException {
		String key = newKey();
		String staleToken = ((ClaimResult.Claimed) store().claim(key, "fp", Duration.ofMillis(100))).token();
		Thread.sleep(250);
		String newToken = claimed(key, "fp");
		assertThat(store().complete(key, staleToken, response(200, "stale"), RETENTION)).isFalse();
		assertThat(store().release(key, staleToken)).isFalse();
		assertThat(store().complete(key, newToken, response(200, "fresh"), RETENTION)).isTrue();
		assertThat(store().complete(key, staleToken, response(200, "stale"), RETENTION)).isFalse();
		assertThat(store().claim(key, "fp", LEASE)).isEqualTo(new ClaimResult.Completed(response(200, "fresh")));
	}

	@Test
	void renewByOwnerShouldKeepClaimPastItsFirstLease() throws InterruptedException {
		String key = newKey();
		String token = ((ClaimResult.Claimed) store().claim(key, "fp", Duration.ofMillis(200))).token();
		Thread.sleep(100);
		assertThat(store().renew(key, token, Duration.ofSeconds(30))).isTrue();
		Thread.sleep(250);
		assertThat(store().claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.InProgress.class);
		assertThat(store().complete(key, token, response(200, "{}"), RETENTION)).isTrue();
	}

	@Test
	void renewWithAnotherTokenShouldNotExtendClaim() throws InterruptedException {
		String key = newKey();
		store().claim(key, "fp", Duration.ofMillis(150));
		assertThat(store().renew(key, "not-the-owner", Duration.ofSeconds(30))).isFalse();
		Thread.sleep(300);
		assertThat(store().claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
	}

	@Test
	void renewAfterLeaseExpiredShouldFail() throws InterruptedException {
		String key = newKey();
		String token = ((ClaimResult.Claimed) store().claim(key, "fp", Duration.ofMillis(100))).token();
		Thread.sleep(250);
		assertThat(store().renew(key, token, Duration.ofSeconds(30))).isFalse();
		assertThat(store().claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
	}

	@Test
	void renewAfterCompletionShouldNotShortenRetention() throws InterruptedException {
		String key = newKey();
		String token = claimed(key, "fp");
		store().complete(key, token, response(200, "{}"), RETENTION);
		assertThat(store().renew(key, token, Duration.ofMillis(100))).isFalse();
		Thread.sleep(250);
		assertThat(store().claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.Completed.class);
	}

	@Test
	void claimWhenRetentionExpiredShouldTreatKeyAsNew() throws InterruptedException {
		String key = newKey();
		String token = claimed(key, "fp");
		store().complete(key, token, response(200, "{}"), Duration.ofMillis(100));
		Thread.sleep(250);
		assertThat(store().claim(key, "other", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
	}

	// A retry storm must not keep a record alive for ever: its retention counts from
	// completion, not from the last replay.
	@Test
	void replayShouldNotExtendRetention() throws InterruptedException {
		String key = newKey();
		String token = claimed(key, "fp");
		store().complete(key, token, response(200, "{}"), Duration.ofMillis(400));
		Thread.sleep(250);
		assertThat(store().claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.Completed.class);
		Thread.sleep(300);
		assertThat(store().claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
	}

	@Test
	void completeShouldReplaceLeaseWithRetention() throws InterruptedException {
		String key = newKey();
		String token = ((ClaimResult.Claimed) store().claim(key, "fp", Duration.ofMillis(150))).token();
		store().complete(key, token, response(200, "{}"), RETENTION);
		Thread.sleep(300);
		assertThat(store().claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.Completed.class);
	}

	@Test
	void concurrentClaimsOfOneKeyShouldHaveExactlyOneWinner() throws Exception {
		int threads = 64;
		String key = newKey();
		ExecutorService executor = Executors.newFixedThreadPool(threads);
		try {
			CountDownLatch start = new CountDownLatch(1);
			List<Future<ClaimResult>> results = new ArrayList<>();
			for (int i = 0; i < threads; i++) {
				results.add(executor.submit(() -> {
					start.await();
					return store().claim(key, "fp", LEASE);
				}));
			}
			start.countDown();
			int claimed = 0;
			int inProgress = 0;
			for (Future<ClaimResult> result : results) {
				ClaimResult claim = result.get(30, TimeUnit.SECONDS);
				if (claim instanceof ClaimResult.Claimed) {
					claimed++;
				}
				else if (claim instanceof ClaimResult.InProgress) {
					inProgress++;
				}
			}
			assertThat(claimed).isEqualTo(1);
			assertThat(inProgress).isEqualTo(threads - 1);
		}
		finally {
			executor.shutdownNow();
		}
	}

	@Test
	void findWhenAbsentShouldBeEmpty() {
		assertThat(store().find(newKey())).isEmpty();
	}

	@Test
	void findWhenInProgressShouldShowStateFingerprintAndLease() {
		String key = newKey();
		claimed(key, "fp");
		IdempotencyRecord record = store().find(key).orElseThrow();
		assertThat(record.state()).isEqualTo(IdempotencyRecord.State.IN_PROGRESS);
		assertThat(record.fingerprint()).isEqualTo("fp");
		assertThat(record.createdAt()).isNotNull();
		assertThat(record.completedAt()).isNull();
		assertThat(record.expiresIn()).isPositive().isLessThanOrEqualTo(LEASE);
		assertThat(record.response()).isNull();
	}

	@Test
	void findWhenCompletedShouldShowResponseAndRetention() {
		String key = newKey();
		String token = claimed(key, "fp");
		store().complete(key, token, response(201, "{\"id\":1}"), RETENTION);
		IdempotencyRecord record = store().find(key).orElseThrow();
		assertThat(record.state()).isEqualTo(IdempotencyRecord.State.COMPLETED);
		assertThat(record.completedAt()).isNotNull();
		assertThat(record.expiresIn()).isGreaterThan(LEASE).isLessThanOrEqualTo(RETENTION);
		assertThat(record.response()).isEqualTo(response(201, "{\"id\":1}"));
	}

	@Test
	void findWhenCompletedShouldKeepFingerprintAndTimeOfClaim() throws InterruptedException {
		String key = newKey();
		String token = claimed(key, "fp");
		Instant claimedAt = store().find(key).orElseThrow().createdAt();
		// So that a store writing the completion's time as the claim's is seen to.
		Thread.sleep(5);
		assertThat(store().complete(key, token, response(200, "{}"), RETENTION)).isTrue();
		IdempotencyRecord record = store().find(key).orElseThrow();
		assertThat(record.fingerprint()).isEqualTo("fp");
		assertThat(record.createdAt()).isEqualTo(claimedAt);
	}

	@Test
	void findShouldNotChangeRecord() {
		String key = newKey();
		claimed(key, "fp");
		store().find(key);
		assertThat(store().claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.InProgress.class);
	}

	@Test
	void completeInCurrentTransactionShouldStoreTheResponseOnlyOnCommit() {
		String key = newKey();
		String token = claimed(key, "fp");
		inTransaction(false, () -> {
			assertThat(store().canCompleteInCurrentTransaction()).isTrue();
			assertThat(store().completeInCurrentTransaction(key, token, response(201, "{\"id\":1}"), RETENTION))
				.isTrue();
		});
		assertThat(store().claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.InProgress.class);
		inTransaction(true,
				() -> assertThat(
						store().completeInCurrentTransaction(key, token, response(201, "{\"id\":1}"), RETENTION))
					.isTrue());
		assertThat(store().claim(key, "fp", LEASE)).isEqualTo(new ClaimResult.Completed(response(201, "{\"id\":1}")));
	}

	@Test
	void completeInCurrentTransactionShouldBeFencedByTheClaim() {
		String key = newKey();
		String token = claimed(key, "fp");
		inTransaction(true,
				() -> assertThat(
						store().completeInCurrentTransaction(key, "not-the-owner", response(200, "stale"), RETENTION))
					.isFalse());
		assertThat(store().release(key, token)).isTrue();
		inTransaction(true,
				() -> assertThat(store().completeInCurrentTransaction(key, token, response(200, "late"), RETENTION))
					.isFalse());
		assertThat(store().find(key)).isEmpty();
	}

	@Test
	void deleteShouldFreeStuckClaim() {
		String key = newKey();
		claimed(key, "fp");
		assertThat(store().delete(key)).isTrue();
		assertThat(store().find(key)).isEmpty();
		assertThat(store().claim(key, "other", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
	}

	@Test
	void deleteWhenAbsentShouldReportNothingDeleted() {
		assertThat(store().delete(newKey())).isFalse();
	}

	// Expired is absent: find returned nothing for it, and an operator told it was
	// deleted would think a claim was freed.
	@Test
	void deleteWhenExpiredShouldReportNothingDeleted() throws InterruptedException {
		String key = newKey();
		store().claim(key, "fp", Duration.ofMillis(100));
		Thread.sleep(250);
		assertThat(store().find(key)).isEmpty();
		assertThat(store().delete(key)).isFalse();
	}

	@Test
	void keysShouldBeIndependent() {
		String first = newKey();
		String second = newKey();
		claimed(first, "fp");
		assertThat(store().claim(second, "fp", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
	}

	private String claimed(String key, String fingerprint) {
		ClaimResult result = store().claim(key, fingerprint, LEASE);
		assertThat(result).isInstanceOf(ClaimResult.Claimed.class);
		return ((ClaimResult.Claimed) result).token();
	}

}
