package io.github.idempotency.interceptor;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.store.memory.InMemoryIdempotencyStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lease renewal keeps going whatever a renewal does: throws an {@link Error}, or hangs in
 * a slow store call; and it stops at the maximum duration. The store is the real
 * in-memory one, with the fault placed in front of its renew calls.
 */
class LeaseRenewalsTests {

	private static final Duration LEASE = Duration.ofMillis(300);

	private static final Duration INTERVAL = Duration.ofMillis(100);

	private final InMemoryIdempotencyStore store = new InMemoryIdempotencyStore();

	private LeaseRenewals renewals;

	@AfterEach
	void close() {
		if (this.renewals != null) {
			this.renewals.close();
		}
	}

	@Test
	void renewalShouldGoOnAfterOneThrewAnError() throws InterruptedException {
		AtomicInteger calls = new AtomicInteger();
		this.renewals = new LeaseRenewals(new FaultyStore(this.store, (operation, key) -> {
			if (calls.incrementAndGet() == 1) {
				throw new StackOverflowError("thrown by the first renewal");
			}
		}), Duration.ofMinutes(1));
		String token = claim("erring");

		this.renewals.start("erring", token, LEASE, INTERVAL, System.nanoTime(), () -> {
		});
		Thread.sleep(1000);

		assertThat(calls.get()).isGreaterThanOrEqualTo(4);
		assertThat(this.store.claim("erring", "fp", LEASE)).isInstanceOf(ClaimResult.InProgress.class);
	}

	@Test
	void slowRenewalShouldNotHoldUpOthers() throws InterruptedException {
		this.renewals = new LeaseRenewals(new FaultyStore(this.store, (operation, key) -> {
			if (key.equals("slow")) {
				sleep(3000);
			}
		}), Duration.ofMinutes(1));
		this.renewals.start("slow", claim("slow"), LEASE, INTERVAL, System.nanoTime(), () -> {
		});
		this.renewals.start("fast", claim("fast"), LEASE, INTERVAL, System.nanoTime(), () -> {
		});

		Thread.sleep(1000);

		assertThat(this.store.claim("fast", "fp", LEASE)).isInstanceOf(ClaimResult.InProgress.class);
	}

	@Test
	void renewalShouldStopAtTheMaximumDuration() throws InterruptedException {
		this.renewals = new LeaseRenewals(this.store, Duration.ofMillis(500));
		this.renewals.start("endless", claim("endless"), LEASE, INTERVAL, System.nanoTime(), () -> {
		});

		Thread.sleep(300);
		assertThat(this.store.claim("endless", "fp", LEASE)).isInstanceOf(ClaimResult.InProgress.class);
		Thread.sleep(900);

		assertThat(this.renewals.size()).isZero();
		assertThat(this.store.claim("endless", "fp", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
	}

	private String claim(String key) {
		return ((ClaimResult.Claimed) this.store.claim(key, "fp", LEASE)).token();
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
