package io.github.idempotency.interceptor;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.interceptor.IdempotencyPolicy.OnStoreFailure;
import io.github.idempotency.store.memory.InMemoryIdempotencyStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lifecycle against the in-memory store: each decision, the claim handle's fencing,
 * the wait for a call in progress, and the store-failure policy.
 */
@ExtendWith(OutputCaptureExtension.class)
class IdempotencyLifecycleTests {

	private static final IdempotentOperation OPERATION = new IdempotentOperation("Ledger.book", null, "#p0", true, null,
			null, null, true, false, null, null, List.of(), null, null);

	private static final StoredResponse OUTCOME = new StoredResponse(200, Map.of(), "\"booked\"".getBytes());

	private final InMemoryIdempotencyStore store = new InMemoryIdempotencyStore();

	private final AtomicBoolean down = new AtomicBoolean();

	// Every call fails while the store is down, as an unreachable store's would.
	private final FaultyStore outage = new FaultyStore(this.store, (operation, key) -> {
		if (this.down.get()) {
			throw new IdempotencyStoreException("store down");
		}
	});

	private final ConcurrentLinkedQueue<String> outcomes = new ConcurrentLinkedQueue<>();

	private final IdempotencyOutcomeListener listener = (operation, outcome) -> this.outcomes
		.add(operation + " " + outcome.tagValue());

	private IdempotencyLifecycle lifecycle = lifecycle(Duration.ZERO, OnStoreFailure.REJECT);

	@AfterEach
	void close() {
		this.lifecycle.close();
	}

	@Test
	void firstCallShouldProceedAndCompletedCallShouldReplay() {
		Claim claim = proceed(this.lifecycle.begin(OPERATION, "Ledger#book", "k1", "fp"));
		assertThat(claim.complete(OUTCOME)).isTrue();
		Decision replay = this.lifecycle.begin(OPERATION, "Ledger#book", "k1", "fp");
		assertThat(replay).isInstanceOfSatisfying(Decision.Replay.class,
				(decision) -> assertThat(decision.response().body()).isEqualTo(OUTCOME.body()));
		assertThat(this.outcomes).containsExactly("Ledger#book executed", "Ledger#book replayed");
	}

	@Test
	void callWhileFirstRunsShouldBeInProgressAndOtherFingerprintMismatch() {
		proceed(this.lifecycle.begin(OPERATION, "Ledger#book", "k2", "fp"));
		assertThat(this.lifecycle.begin(OPERATION, "Ledger#book", "k2", "fp")).isInstanceOf(Decision.InProgress.class);
		assertThat(this.lifecycle.begin(OPERATION, "Ledger#book", "k2", "other")).isInstanceOf(Decision.Mismatch.class);
		assertThat(this.outcomes).containsExactly("Ledger#book executed", "Ledger#book in_progress",
				"Ledger#book mismatch");
	}

	@Test
	void releasedClaimShouldLetNextCallProceed() {
		Claim claim = proceed(this.lifecycle.begin(OPERATION, "Ledger#book", "k3", "fp"));
		claim.release();
		// Released again (after a transaction that kept the outcome rolled back, say):
		// counted once.
		claim.release();
		assertThat(this.lifecycle.begin(OPERATION, "Ledger#book", "k3", "fp")).isInstanceOf(Decision.Proceed.class);
		assertThat(this.outcomes).containsExactly("Ledger#book executed", "Ledger#book released",
				"Ledger#book executed");
	}

	@Test
	void outcomeTheStoreFailedToKeepShouldBeCountedAsNotStored() {
		Claim claim = proceed(this.lifecycle.begin(OPERATION, "Ledger#book", "k10", "fp"));
		this.down.set(true);
		assertThat(claim.complete(OUTCOME)).isFalse();
		this.down.set(false);
		assertThat(this.outcomes).containsExactly("Ledger#book executed", "Ledger#book not_stored");
		assertThat(this.lifecycle.begin(OPERATION, "Ledger#book", "k10", "fp")).isInstanceOf(Decision.InProgress.class);
	}

	@Test
	void outcomeTheStoreFailedToKeepOnceShouldBeStoredOnTheNextAttempt() {
		AtomicInteger completions = new AtomicInteger();
		IdempotencyLifecycle flaky = new IdempotencyLifecycle(new FaultyStore(this.store, (operation, key) -> {
			if (operation.equals("complete") && completions.incrementAndGet() == 1) {
				throw new IdempotencyStoreException("connection reset");
			}
		}), new IdempotencyPolicy(Duration.ofMinutes(1), Duration.ofSeconds(10), false, null, Duration.ofMinutes(1),
				Duration.ZERO, 255, OnStoreFailure.REJECT), this.listener);
		try {
			Claim claim = proceed(flaky.begin(OPERATION, "Ledger#book", "k11", "fp"));
			assertThat(claim.complete(OUTCOME)).isTrue();
			assertThat(completions).hasValue(2);
			assertThat(flaky.begin(OPERATION, "Ledger#book", "k11", "fp")).isInstanceOf(Decision.Replay.class);
			assertThat(this.outcomes).containsExactly("Ledger#book executed", "Ledger#book replayed");
		}
		finally {
			flaky.close();
		}
	}

	// The store kept the outcome, and its answer was lost: the attempt after finds the
	// record completed under the call's own token, rather than a lease lost.
	@Test
	void outcomeStoredByAnAttemptThatFailedShouldCountAsStored(CapturedOutput output) {
		AtomicInteger completions = new AtomicInteger();
		IdempotencyLifecycle lostReply = new IdempotencyLifecycle(new FaultyStore(this.store, new FaultyStore.Fault() {

			@Override
			public void before(String operation, String key) {
			}

			@Override
			public void after(String operation, String key) {
				if (operation.equals("complete") && completions.incrementAndGet() == 1) {
					throw new IdempotencyStoreException("connection reset");
				}
			}

		}), new IdempotencyPolicy(Duration.ofMinutes(1), Duration.ofSeconds(10), false, null, Duration.ofMinutes(1),
				Duration.ZERO, 255, OnStoreFailure.REJECT), this.listener);
		try {
			Claim claim = proceed(lostReply.begin(OPERATION, "Ledger#book", "k12", "fp"));
			assertThat(claim.complete(OUTCOME)).isTrue();
			assertThat(completions).hasValue(2);
			assertThat(lostReply.begin(OPERATION, "Ledger#book", "k12", "fp")).isInstanceOf(Decision.Replay.class);
			assertThat(this.outcomes).containsExactly("Ledger#book executed", "Ledger#book replayed");
			assertThat(output).doesNotContain("was lost");
		}
		finally {
			lostReply.close();
		}
	}

	@Test
	void listenerThatThrowsShouldNeitherFailTheCallNorKeepItsKey() {
		IdempotencyLifecycle failing = new IdempotencyLifecycle(this.store, new IdempotencyPolicy(Duration.ofMinutes(1),
				Duration.ofSeconds(10), false, null, Duration.ofMinutes(1), Duration.ZERO, 255, OnStoreFailure.REJECT),
				(operation, outcome) -> {
					throw new IllegalStateException("audit down");
				});
		try {
			proceed(failing.begin(OPERATION, "Ledger#book", "k20", "fp")).release();
			assertThat(proceed(failing.begin(OPERATION, "Ledger#book", "k20", "fp")).complete(OUTCOME)).isTrue();
			assertThat(failing.begin(OPERATION, "Ledger#book", "k20", "fp")).isInstanceOf(Decision.Replay.class);
		}
		finally {
			failing.close();
		}
	}

	@Test
	void claimTakenOverAfterItsLeaseShouldNotCompleteTheNewOwnersRecord() throws InterruptedException {
		IdempotentOperation shortLease = new IdempotentOperation("Ledger.book", null, "#p0", true, null,
				Duration.ofMillis(50), null, true, false, null, null, List.of(), null, null);
		this.lifecycle.close();
		this.lifecycle = new IdempotencyLifecycle(this.store, new IdempotencyPolicy(Duration.ofMinutes(1),
				Duration.ofSeconds(10), false, null, Duration.ofMinutes(1), Duration.ZERO, 255, OnStoreFailure.REJECT),
				this.listener);
		Claim stale = proceed(this.lifecycle.begin(shortLease, "Ledger#book", "k4", "fp"));
		Thread.sleep(120);
		Claim current = proceed(this.lifecycle.begin(shortLease, "Ledger#book", "k4", "fp"));
		assertThat(stale.complete(OUTCOME)).isFalse();
		// Found lost again (a completion within a transaction, then one after it):
		// reported once all the same.
		assertThat(stale.complete(OUTCOME)).isFalse();
		stale.release();
		assertThat(this.lifecycle.begin(shortLease, "Ledger#book", "k4", "fp")).isInstanceOf(Decision.InProgress.class);
		assertThat(current.complete(OUTCOME)).isTrue();
		assertThat(this.outcomes).containsExactly("Ledger#book executed", "Ledger#book executed",
				"Ledger#book lease_lost", "Ledger#book in_progress");
	}

	@Test
	void leaseLostWhileTheCallRunsShouldBeReportedOnce() throws InterruptedException {
		IdempotentOperation shortLease = new IdempotentOperation("Ledger.book", null, "#p0", true, null,
				Duration.ofMillis(300), null, true, false, null, null, List.of(), null, null);
		Claim claim = proceed(this.lifecycle.begin(shortLease, "Ledger#book", "k9", "fp"));
		this.store.delete("k9");
		Thread.sleep(400);
		assertThat(this.outcomes).containsExactly("Ledger#book executed", "Ledger#book lease_lost");
		assertThat(claim.complete(OUTCOME)).isFalse();
		assertThat(this.outcomes).containsExactly("Ledger#book executed", "Ledger#book lease_lost");
	}

	@Test
	void duplicateShouldWaitForTheFirstCallAndReplayIt() throws Exception {
		this.lifecycle.close();
		this.lifecycle = lifecycle(Duration.ofSeconds(5), OnStoreFailure.REJECT);
		Claim claim = proceed(this.lifecycle.begin(OPERATION, "Ledger#book", "k5", "fp"));
		Thread completer = new Thread(() -> {
			try {
				Thread.sleep(100);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			claim.complete(OUTCOME);
		});
		completer.start();
		assertThat(this.lifecycle.begin(OPERATION, "Ledger#book", "k5", "fp")).isInstanceOf(Decision.Replay.class);
		completer.join();
	}

	@Test
	void operationsOwnWaitTimeoutShouldOverrideThePolicys() {
		IdempotentOperation patient = new IdempotentOperation("Ledger.book", null, "#p0", true, null, null,
				Duration.ofSeconds(5), true, false, null, null, List.of(), null, null);
		Claim claim = proceed(this.lifecycle.begin(patient, "Ledger#book", "k8", "fp"));
		new Thread(() -> {
			sleep(100);
			claim.complete(OUTCOME);
		}).start();
		assertThat(this.lifecycle.begin(patient, "Ledger#book", "k8", "fp")).isInstanceOf(Decision.Replay.class);
	}

	@Test
	void storeFailureShouldBeUnavailableOrUnprotectedAsThePolicySays() {
		this.down.set(true);
		assertThat(this.lifecycle.begin(OPERATION, "Ledger#book", "k6", "fp")).isInstanceOf(Decision.Unavailable.class);
		this.lifecycle.close();
		this.lifecycle = lifecycle(Duration.ZERO, OnStoreFailure.PROCEED);
		assertThat(this.lifecycle.begin(OPERATION, "Ledger#book", "k6", "fp")).isInstanceOf(Decision.Unprotected.class);
		this.down.set(false);
		assertThat(this.lifecycle.begin(OPERATION, "Ledger#book", "k6", "fp")).isInstanceOf(Decision.Proceed.class);
		assertThat(this.outcomes).containsExactly("Ledger#book store_error", "Ledger#book store_error",
				"Ledger#book executed");
	}

	@Test
	void leaseShouldBeRenewedWhileTheCallRuns() throws InterruptedException {
		IdempotentOperation shortLease = new IdempotentOperation("Ledger.book", null, "#p0", true, null,
				Duration.ofMillis(600), null, true, false, null, null, List.of(), null, null);
		Claim claim = proceed(this.lifecycle.begin(shortLease, "Ledger#book", "k7", "fp"));
		Thread.sleep(1500);
		assertThat(this.lifecycle.begin(shortLease, "Ledger#book", "k7", "fp")).isInstanceOf(Decision.InProgress.class);
		assertThat(claim.complete(OUTCOME)).isTrue();
	}

	// The claim is written at once and its answer held up, as a reply delayed on the
	// network, or a command sent again after a reconnect, would be.
	// Written after a while, and answered later still, as a command queued on its way to
	// the store then held up on its way back would be: it is given back, and answered as
	// a duplicate in progress would be, whatever the store-failure policy, so that the
	// retry claims anew.
	@Test
	void claimAnsweredOnlyAfterItsLeaseRanOutShouldNotRun() {
		IdempotentOperation lease = new IdempotentOperation("Ledger.book", null, "#p0", true, null,
				Duration.ofMillis(1000), null, true, false, null, null, List.of(), null, null);
		for (OnStoreFailure policy : OnStoreFailure.values()) {
			this.lifecycle.close();
			this.lifecycle = lateAnswers(600, 500, policy);
			String key = "k9-" + policy;
			assertThat(this.lifecycle.begin(lease, "Ledger#book", key, "fp")).isInstanceOf(Decision.InProgress.class);
			assertThat(this.store.claim(key, "fp", Duration.ofSeconds(1))).isInstanceOf(ClaimResult.Claimed.class);
		}
		assertThat(this.outcomes).containsExactly("Ledger#book in_progress", "Ledger#book in_progress");
	}

	// Answered past half its lease, a claim leaves its first renewal, overdue then, less
	// time than its own round trip took: given back too.
	@Test
	void claimAnsweredAfterHalfItsLeaseShouldNotRun() {
		IdempotentOperation lease = new IdempotentOperation("Ledger.book", null, "#p0", true, null,
				Duration.ofMillis(1000), null, true, false, null, null, List.of(), null, null);
		this.lifecycle.close();
		this.lifecycle = lateAnswers(0, 600, OnStoreFailure.REJECT);
		assertThat(this.lifecycle.begin(lease, "Ledger#book", "k12", "fp")).isInstanceOf(Decision.InProgress.class);
		assertThat(this.store.claim("k12", "fp", Duration.ofSeconds(1))).isInstanceOf(ClaimResult.Claimed.class);
	}

	// Answered when more than a third of its lease, but less than half, had passed, its
	// first renewal overdue: it runs, and its lease is renewed past the one it claimed.
	@Test
	void claimAnsweredLateButBeforeHalfItsLeaseShouldRunAndBeRenewed() throws InterruptedException {
		IdempotentOperation lease = new IdempotentOperation("Ledger.book", null, "#p0", true, null,
				Duration.ofMillis(3000), null, true, false, null, null, List.of(), null, null);
		this.lifecycle.close();
		this.lifecycle = lateAnswers(0, 1100, OnStoreFailure.REJECT);
		Claim claim = proceed(this.lifecycle.begin(lease, "Ledger#book", "k10", "fp"));
		Thread.sleep(2200);
		assertThat(this.store.claim("k10", "fp", Duration.ofSeconds(1))).isInstanceOf(ClaimResult.InProgress.class);
		assertThat(claim.complete(OUTCOME)).isTrue();
	}

	// The first renewal is made at once and answered when two thirds of the lease it
	// renewed had passed: the next is due a third of the lease after the first was sent,
	// not after its answer, by when the lease would have run out.
	@Test
	void renewalAnsweredLateShouldBeFollowedAtOnce() throws InterruptedException {
		IdempotentOperation lease = new IdempotentOperation("Ledger.book", null, "#p0", true, null,
				Duration.ofMillis(1500), null, true, false, null, null, List.of(), null, null);
		AtomicBoolean first = new AtomicBoolean(true);
		FaultyStore lateRenewal = new FaultyStore(this.store, new FaultyStore.Fault() {

			@Override
			public void before(String operation, String key) {
			}

			@Override
			public void after(String operation, String key) {
				if (operation.equals("renew") && first.getAndSet(false)) {
					sleep(1100);
				}
			}

		});
		this.lifecycle.close();
		this.lifecycle = new IdempotencyLifecycle(lateRenewal, new IdempotencyPolicy(Duration.ofMinutes(1),
				Duration.ofSeconds(10), true, null, Duration.ofMinutes(1), Duration.ZERO, 255, OnStoreFailure.REJECT),
				this.listener);
		Claim claim = proceed(this.lifecycle.begin(lease, "Ledger#book", "k11", "fp"));
		Thread.sleep(2300);
		assertThat(this.store.claim("k11", "fp", Duration.ofSeconds(1))).isInstanceOf(ClaimResult.InProgress.class);
		assertThat(claim.complete(OUTCOME)).isTrue();
	}

	@Test
	void callMadeAgainShouldTakeTheFailedCallsKeyOverOnceTheStoreRenewedIt() {
		Claim failed = proceed(this.lifecycle.begin(OPERATION, "Ledger#book", "k13", "fp"));
		Claim again = this.lifecycle.takeOver(OPERATION, "Ledger#book", failed);
		assertThat(again).isNotNull();
		assertThat(this.lifecycle.begin(OPERATION, "Ledger#book", "k13", "fp")).isInstanceOf(Decision.InProgress.class);
		assertThat(again.complete(OUTCOME)).isTrue();
		assertThat(this.lifecycle.begin(OPERATION, "Ledger#book", "k13", "fp")).isInstanceOf(Decision.Replay.class);
		assertThat(this.outcomes).containsExactly("Ledger#book executed", "Ledger#book released",
				"Ledger#book executed", "Ledger#book in_progress", "Ledger#book replayed");
	}

	// A renewal answered past half the lease may have landed after the lease ran out and
	// another call claimed the key: the call made again is left to the store to decide,
	// and the failed call keeps its claim, renewed as before.
	@Test
	void takeOverAnsweredAfterHalfTheLeaseShouldLeaveTheKeyToTheFailedCall() throws InterruptedException {
		IdempotentOperation lease = new IdempotentOperation("Ledger.book", null, "#p0", true, null,
				Duration.ofMillis(900), null, true, false, null, null, List.of(), null, null);
		Thread caller = Thread.currentThread();
		FaultyStore lateForTheCaller = new FaultyStore(this.store, new FaultyStore.Fault() {

			@Override
			public void before(String operation, String key) {
			}

			// The renewals the lease renewal thread sends are answered in time.
			@Override
			public void after(String operation, String key) {
				if (operation.equals("renew") && Thread.currentThread() == caller) {
					sleep(500);
				}
			}

		});
		this.lifecycle.close();
		this.lifecycle = new IdempotencyLifecycle(lateForTheCaller, new IdempotencyPolicy(Duration.ofMinutes(1),
				Duration.ofSeconds(10), true, null, Duration.ofMinutes(1), Duration.ZERO, 255, OnStoreFailure.REJECT),
				this.listener);
		Claim failed = proceed(this.lifecycle.begin(lease, "Ledger#book", "k14", "fp"));
		assertThat(this.lifecycle.takeOver(lease, "Ledger#book", failed)).isNull();
		Thread.sleep(1000);
		assertThat(this.store.claim("k14", "fp", Duration.ofSeconds(1))).isInstanceOf(ClaimResult.InProgress.class);
		assertThat(failed.complete(OUTCOME)).isTrue();
		assertThat(this.outcomes).containsExactly("Ledger#book executed");
	}

	@Test
	void takeOverTheStoreCouldNotAnswerShouldLeaveTheKeyToTheFailedCall() {
		Claim failed = proceed(this.lifecycle.begin(OPERATION, "Ledger#book", "k15", "fp"));
		this.down.set(true);
		assertThat(this.lifecycle.takeOver(OPERATION, "Ledger#book", failed)).isNull();
		this.down.set(false);
		assertThat(this.store.claim("k15", "fp", Duration.ofSeconds(1))).isInstanceOf(ClaimResult.InProgress.class);
		failed.release();
		assertThat(this.store.claim("k15", "fp", Duration.ofSeconds(1))).isInstanceOf(ClaimResult.Claimed.class);
		assertThat(this.outcomes).containsExactly("Ledger#book executed", "Ledger#book released");
	}

	@Test
	void takeOverOfAKeyAnotherCallNowHoldsShouldBeRefused() {
		Claim failed = proceed(this.lifecycle.begin(OPERATION, "Ledger#book", "k16", "fp"));
		this.store.delete("k16");
		assertThat(this.store.claim("k16", "fp", Duration.ofSeconds(10))).isInstanceOf(ClaimResult.Claimed.class);
		assertThat(this.lifecycle.takeOver(OPERATION, "Ledger#book", failed)).isNull();
		assertThat(this.outcomes).containsExactly("Ledger#book executed");
	}

	private IdempotencyLifecycle lateAnswers(long sentAfterMillis, long answeredAfterMillis,
			OnStoreFailure onStoreFailure) {
		FaultyStore late = new FaultyStore(this.store, new FaultyStore.Fault() {

			@Override
			public void before(String operation, String key) {
				if (operation.equals("claim")) {
					sleep(sentAfterMillis);
				}
			}

			@Override
			public void after(String operation, String key) {
				sleep(answeredAfterMillis);
			}

		});
		return new IdempotencyLifecycle(late, new IdempotencyPolicy(Duration.ofMinutes(1), Duration.ofSeconds(10), true,
				null, Duration.ofMinutes(1), Duration.ZERO, 255, onStoreFailure), this.listener);
	}

	private IdempotencyLifecycle lifecycle(Duration waitTimeout, OnStoreFailure onStoreFailure) {
		return new IdempotencyLifecycle(this.outage, new IdempotencyPolicy(Duration.ofMinutes(1),
				Duration.ofSeconds(10), true, null, Duration.ofMinutes(1), waitTimeout, 255, onStoreFailure),
				this.listener);
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private static Claim proceed(Decision decision) {
		assertThat(decision).isInstanceOf(Decision.Proceed.class);
		return ((Decision.Proceed) decision).claim();
	}

}
