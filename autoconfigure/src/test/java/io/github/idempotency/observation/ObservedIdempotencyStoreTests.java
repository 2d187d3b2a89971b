package io.github.idempotency.observation;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.store.memory.InMemoryIdempotencyStore;
import io.micrometer.common.KeyValue;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * Tests for {@link ObservedIdempotencyStore}, around the in-memory store.
 */
class ObservedIdempotencyStoreTests {

	private static final Duration LEASE = Duration.ofMinutes(1);

	private final List<Observation.Context> stopped = new CopyOnWriteArrayList<>();

	private final InMemoryIdempotencyStore memory = new InMemoryIdempotencyStore();

	private final IdempotencyStore store = new ObservedIdempotencyStore(this.memory, registry());

	private ObservationRegistry registry() {
		ObservationRegistry registry = ObservationRegistry.create();
		registry.observationConfig().observationHandler(new ObservationHandler<>() {

			@Override
			public boolean supportsContext(Observation.Context context) {
				return true;
			}

			@Override
			public void onStop(Observation.Context context) {
				ObservedIdempotencyStoreTests.this.stopped.add(context);
			}

		});
		return registry;
	}

	@Test
	void everyCallShouldBeObservedWithTheSameKeys() {
		ClaimResult.Claimed claimed = (ClaimResult.Claimed) this.store.claim("a", "f", LEASE);
		this.store.claim("a", "f", LEASE);
		this.store.claim("a", "other", LEASE);
		this.store.renew("a", claimed.token(), LEASE);
		this.store.complete("a", claimed.token(), new StoredResponse(201, Map.of(), new byte[] { 1 }), LEASE);
		this.store.claim("a", "f", LEASE);
		this.store.find("a");
		this.store.delete("a");
		ClaimResult.Claimed next = (ClaimResult.Claimed) this.store.claim("b", "f", LEASE);
		this.store.release("b", next.token());
		assertThat(this.stopped).extracting((context) -> context.getName())
			.containsOnly(ObservedIdempotencyStore.OBSERVATION_NAME);
		assertThat(this.stopped).extracting(ObservedIdempotencyStoreTests::keys)
			.containsExactly("operation=claim result=claimed", "operation=claim result=in_progress",
					"operation=claim result=mismatch", "operation=renew result=none", "operation=complete result=none",
					"operation=claim result=completed", "operation=find result=none", "operation=delete result=none",
					"operation=claim result=claimed", "operation=release result=none");
		assertThat(this.memory.find("a")).isEmpty();
		assertThat(this.memory.find("b")).isEmpty();
	}

	@Test
	void failedCallShouldBeObservedWithItsErrorAndRethrown() {
		IdempotencyStore failing = new ObservedIdempotencyStore(new InMemoryIdempotencyStore() {

			@Override
			public ClaimResult claim(String key, String fingerprint, Duration lease) {
				throw new IllegalStateException("store down");
			}

			@Override
			public boolean release(String key, String token) {
				throw new IllegalStateException("store down");
			}

		}, registry());
		assertThatIllegalStateException().isThrownBy(() -> failing.claim("a", "f", LEASE)).withMessage("store down");
		assertThatIllegalStateException().isThrownBy(() -> failing.release("a", "t")).withMessage("store down");
		assertThat(this.stopped).extracting(ObservedIdempotencyStoreTests::keys)
			.containsExactly("operation=claim result=none", "operation=release result=none");
		assertThat(this.stopped).allSatisfy((context) -> assertThat(context.getError()).hasMessage("store down"));
	}

	@Test
	void descriptionShouldBeTheObservedStores() {
		assertThat(this.store).hasToString(this.memory.toString());
	}

	private static String keys(Observation.Context context) {
		return String.join(" ",
				context.getLowCardinalityKeyValues().stream().map((value) -> keyValue(value)).sorted().toList());
	}

	private static String keyValue(KeyValue value) {
		return value.getKey() + "=" + value.getValue();
	}

}
