package io.github.idempotency.observation;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.github.idempotency.interceptor.IdempotencyOutcome;
import io.github.idempotency.interceptor.IdempotencyOutcomeListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Counts calls of idempotent operations in the counter {@code idempotency.requests},
 * tagged with {@code operation} (request method and route pattern, or the method's name)
 * and {@code outcome} ({@link IdempotencyOutcome#tagValue()}: {@code executed},
 * {@code replayed}, {@code in_progress}, {@code mismatch}, {@code missing},
 * {@code invalid}, {@code too_large}, {@code incomplete}, {@code store_error},
 * {@code unreadable_record}, {@code bypassed}, {@code released}, {@code lease_lost},
 * {@code not_stored}). Thread-safe.
 *
 * @since 0.1.0
 */
public class MeterRegistryOutcomeListener implements IdempotencyOutcomeListener {

	/**
	 * Name of the counter.
	 */
	public static final String METER_NAME = "idempotency.requests";

	private final MeterRegistry registry;

	private final Map<String, Counter> counters = new ConcurrentHashMap<>();

	public MeterRegistryOutcomeListener(MeterRegistry registry) {
		this.registry = registry;
	}

	@Override
	public void onOutcome(String operation, IdempotencyOutcome outcome) {
		this.counters
			.computeIfAbsent(operation + '\n' + outcome.tagValue(),
					(key) -> Counter.builder(METER_NAME)
						.description("Calls of idempotent operations, by what became of them")
						.tag("operation", operation)
						.tag("outcome", outcome.tagValue())
						.register(this.registry))
			.increment();
	}

}
