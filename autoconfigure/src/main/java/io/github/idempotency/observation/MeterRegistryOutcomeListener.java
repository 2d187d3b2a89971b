package io.github.idempotency.observation;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.github.idempotency.interceptor.IdempotencyOutcome;
import io.github.idempotency.interceptor.IdempotencyOutcomeListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Counts requests to idempotent endpoints in the counter {@code idempotency.requests},
 * tagged with {@code operation} (request method and route pattern) and {@code outcome}
 * ({@code executed}, {@code replayed}, {@code conflict}, {@code mismatch},
 * {@code invalid_key}, {@code too_large}, {@code incomplete}, {@code store_unavailable},
 * {@code unreadable_record}, {@code bypassed}), and calls that lost their lease in the
 * counter {@code idempotency.leases.lost}, tagged with {@code operation}. Thread-safe.
 *
 * @since 0.1.0
 */
public class MeterRegistryOutcomeListener implements IdempotencyOutcomeListener {

	/**
	 * Name of the counter.
	 */
	public static final String METER_NAME = "idempotency.requests";

	/**
	 * Name of the counter of calls that lost their lease.
	 */
	public static final String LEASE_LOST_METER_NAME = "idempotency.leases.lost";

	private final MeterRegistry registry;

	private final Map<String, Counter> counters = new ConcurrentHashMap<>();

	private final Map<String, Counter> leasesLost = new ConcurrentHashMap<>();

	public MeterRegistryOutcomeListener(MeterRegistry registry) {
		this.registry = registry;
	}

	@Override
	public void onOutcome(String operation, IdempotencyOutcome outcome) {
		this.counters
			.computeIfAbsent(operation + '\n' + outcome.tagValue(),
					(key) -> Counter.builder(METER_NAME)
						.description("Requests to idempotent endpoints, by what became of them")
						.tag("operation", operation)
						.tag("outcome", outcome.tagValue())
						.register(this.registry))
			.increment();
	}

	@Override
	public void onLeaseLost(String operation) {
		this.leasesLost
			.computeIfAbsent(operation,
					(key) -> Counter.builder(LEASE_LOST_METER_NAME)
						.description("Calls of idempotent operations that lost their lease on the key, whose"
								+ " outcome was not stored")
						.tag("operation", operation)
						.register(this.registry))
			.increment();
	}

}
