package io.github.idempotency.observation;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyRecord;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.StoredResponse;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;

/**
 * Observes every call to another {@link IdempotencyStore}, as the observation
 * {@code idempotency.store} with the low-cardinality key {@code operation}
 * ({@code claim}, {@code complete}, {@code renew}, {@code release}, {@code find},
 * {@code delete}) and {@code result}: for claims that returned {@code claimed},
 * {@code in_progress}, {@code completed} or {@code mismatch}, else {@code none}. With
 * Spring Boot Actuator that is a timer of the same name, and a span in each trace.
 * Thread-safe.
 *
 * @since 0.1.0
 */
public class ObservedIdempotencyStore implements IdempotencyStore {

	/**
	 * Name of the observation.
	 */
	public static final String OBSERVATION_NAME = "idempotency.store";

	private static final String NO_RESULT = "none";

	private final IdempotencyStore store;

	private final ObservationRegistry registry;

	public ObservedIdempotencyStore(IdempotencyStore store, ObservationRegistry registry) {
		this.store = store;
		this.registry = registry;
	}

	@Override
	public ClaimResult claim(String key, String fingerprint, Duration lease) {
		Observation observation = observation("claim").start();
		try (Observation.Scope scope = observation.openScope()) {
			ClaimResult result = this.store.claim(key, fingerprint, lease);
			observation.lowCardinalityKeyValue("result", result(result));
			return result;
		}
		catch (RuntimeException ex) {
			observation.error(ex);
			throw ex;
		}
		finally {
			observation.stop();
		}
	}

	@Override
	public boolean canCompleteInCurrentTransaction() {
		return this.store.canCompleteInCurrentTransaction();
	}

	@Override
	public boolean completeInCurrentTransaction(String key, String token, StoredResponse response, Duration retention) {
		return observe("complete", () -> this.store.completeInCurrentTransaction(key, token, response, retention));
	}

	@Override
	public boolean complete(String key, String token, StoredResponse response, Duration retention) {
		return observe("complete", () -> this.store.complete(key, token, response, retention));
	}

	@Override
	public boolean renew(String key, String token, Duration lease) {
		return observe("renew", () -> this.store.renew(key, token, lease));
	}

	@Override
	public boolean release(String key, String token) {
		return observe("release", () -> this.store.release(key, token));
	}

	@Override
	public Optional<IdempotencyRecord> find(String key) {
		return observe("find", () -> this.store.find(key));
	}

	@Override
	public boolean delete(String key) {
		return observe("delete", () -> this.store.delete(key));
	}

	/**
	 * The observed store's description, for logs that name where records go.
	 */
	@Override
	public String toString() {
		return this.store.toString();
	}

	private <T> T observe(String operation, Supplier<T> call) {
		return observation(operation).observe(call);
	}

	private Observation observation(String operation) {
		// Every observation has the same keys: Prometheus drops the timers of one name
		// whose tag keys differ from the first one's.
		return Observation.createNotStarted(OBSERVATION_NAME, this.registry)
			.contextualName("idempotency " + operation)
			.lowCardinalityKeyValue("operation", operation)
			.lowCardinalityKeyValue("result", NO_RESULT);
	}

	private static String result(ClaimResult result) {
		if (result instanceof ClaimResult.Claimed) {
			return "claimed";
		}
		if (result instanceof ClaimResult.InProgress) {
			return "in_progress";
		}
		return (result instanceof ClaimResult.Completed) ? "completed" : "mismatch";
	}

}
