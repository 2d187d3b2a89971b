package io.github.idempotency.web;

import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import io.github.idempotency.interceptor.IdempotencyOutcome;
import io.github.idempotency.web.app.TestApplication;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every request to an idempotent endpoint is counted once, under the outcome it had (and
 * once more when it ran and then gave its key up), tagged with its route and never its
 * key; store calls are timed.
 */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=metrics-test", "idempotency.max-body-size=1KB" })
class MetricsTests extends AbstractWebTests {

	private static final String ORDER = "{\"item\":\"book\",\"quantity\":2}";

	@Autowired
	private MeterRegistry registry;

	@Test
	void eachOutcomeShouldBeCountedOncePerRequest() throws Exception {
		TestHttp http = new TestHttp(this.port);
		String key = UUID.randomUUID().toString();

		assertCountedOnce("POST /orders", IdempotencyOutcome.EXECUTED,
				() -> http.post("/orders").key(key).name(key).json(ORDER).send());
		assertCountedOnce("POST /orders", IdempotencyOutcome.REPLAYED,
				() -> http.post("/orders").key(key).name(key).json(ORDER).send());
		assertCountedOnce("POST /orders", IdempotencyOutcome.MISMATCH,
				() -> http.post("/orders").key(key).name(key).json("{\"item\":\"pen\",\"quantity\":1}").send());
		assertCountedOnce("POST /orders", IdempotencyOutcome.MISSING,
				() -> http.post("/orders").name(key).json(ORDER).send());
		assertCountedOnce("POST /orders", IdempotencyOutcome.INVALID,
				() -> http.post("/orders").key("\"bad").name(key).json(ORDER).send());
		assertCountedOnce("POST /orders", IdempotencyOutcome.TOO_LARGE,
				() -> http.post("/orders")
					.key(UUID.randomUUID().toString())
					.name(key)
					.json("{\"item\":\"" + "x".repeat(2000) + "\",\"quantity\":1}")
					.send());
		assertCountedOnce("POST /orders/optional", IdempotencyOutcome.BYPASSED,
				() -> http.post("/orders/optional").name(key).json(ORDER).send());
		assertCountedOnce("POST /orders/optional-async", IdempotencyOutcome.BYPASSED,
				() -> http.post("/orders/optional-async").name(key).json(ORDER).send());
		assertCountedOnce("POST /orders/body-key", IdempotencyOutcome.MISSING,
				() -> http.post("/orders/body-key").name(key).json("{\"quantity\":1}").send());
	}

	// A request that ran and failed is counted when it begins and again when its key is
	// given up, so that failures show beside executions.
	@Test
	void failedRequestShouldBeCountedAsExecutedThenReleased() {
		TestHttp http = new TestHttp(this.port);
		String key = UUID.randomUUID().toString();
		Map<IdempotencyOutcome, Double> before = counts("POST /orders/unavailable");
		assertThat(http.post("/orders/unavailable").key(key).name(key).json(ORDER).send().statusCode()).isEqualTo(503);
		Map<IdempotencyOutcome, Double> after = counts("POST /orders/unavailable");
		Arrays.stream(IdempotencyOutcome.values())
			.forEach((each) -> assertThat(after.get(each) - before.get(each)).as(each.tagValue())
				.isEqualTo((each == IdempotencyOutcome.EXECUTED || each == IdempotencyOutcome.RELEASED) ? 1.0 : 0.0));
	}

	@Test
	void duplicateInProgressShouldBeCounted() throws Exception {
		TestHttp http = new TestHttp(this.port);
		String key = UUID.randomUUID().toString();
		ExecutorService executor = Executors.newSingleThreadExecutor();
		try {
			Future<HttpResponse<byte[]>> first = executor.submit(() -> http.post("/orders/slow")
				.key(key)
				.name(key)
				.header("X-Delay-Millis", "800")
				.json(ORDER)
				.send());
			while (this.executions.count(key) == 0) {
				Thread.sleep(10);
			}
			assertCountedOnce("POST /orders/slow", IdempotencyOutcome.IN_PROGRESS,
					() -> http.post("/orders/slow")
						.key(key)
						.name(key)
						.header("X-Delay-Millis", "0")
						.json(ORDER)
						.send());
			first.get(10, TimeUnit.SECONDS);
		}
		finally {
			executor.shutdownNow();
		}
	}

	@Test
	void storeCallsShouldBeTimedByOperation() {
		TestHttp http = new TestHttp(this.port);
		String key = UUID.randomUUID().toString();
		long claims = storeCallCount(this.registry, "claim");
		long completions = storeCallCount(this.registry, "complete");
		http.post("/orders").key(key).name(key).json(ORDER).send();
		http.post("/orders").key(key).name(key).json(ORDER).send();

		assertThat(storeCallCount(this.registry, "claim") - claims).isEqualTo(2);
		assertThat(storeCallCount(this.registry, "complete") - completions).isEqualTo(1);
		assertThat(this.registry.find("idempotency.store").tag("operation", "claim").tag("result", "completed").timer())
			.isNotNull();
	}

	@Test
	void noTagShouldCarryTheClientsKey() {
		TestHttp http = new TestHttp(this.port);
		String key = "secret-" + UUID.randomUUID();
		http.post("/orders").key(key).name(key).json(ORDER).send();

		assertThat(this.registry.getMeters()).allSatisfy((meter) -> assertThat(meter.getId().getTags())
			.noneSatisfy((tag) -> assertThat(tag.getValue()).contains("secret-")));
	}

	// Prometheus takes the meters of one name only with one set of tag keys: the first
	// registered wins, and the others are dropped.
	@Test
	void metersOfOneNameShouldHaveTheSameTagKeys() {
		TestHttp http = new TestHttp(this.port);
		String key = UUID.randomUUID().toString();
		http.post("/orders").key(key).name(key).json(ORDER).send();
		http.post("/orders").key(key).name(key).json(ORDER).send();
		http.post("/orders").name(key).json(ORDER).send();

		Map<String, Set<Set<String>>> tagKeysByName = new HashMap<>();
		this.registry.getMeters()
			.stream()
			.filter((meter) -> meter.getId().getName().startsWith("idempotency."))
			.forEach((meter) -> tagKeysByName.computeIfAbsent(meter.getId().getName(), (name) -> new HashSet<>())
				.add(meter.getId().getTags().stream().map(Tag::getKey).collect(Collectors.toSet())));
		assertThat(tagKeysByName).containsKeys("idempotency.requests", "idempotency.store")
			.allSatisfy((name, tagKeys) -> assertThat(tagKeys).as(name).hasSize(1));
	}

	private void assertCountedOnce(String operation, IdempotencyOutcome outcome,
			Supplier<HttpResponse<byte[]>> request) {
		Map<IdempotencyOutcome, Double> before = counts(operation);
		request.get();
		Map<IdempotencyOutcome, Double> after = counts(operation);
		Arrays.stream(IdempotencyOutcome.values())
			.forEach((each) -> assertThat(after.get(each) - before.get(each)).as("%s %s", operation, each)
				.isEqualTo((each == outcome) ? 1.0 : 0.0));
	}

	private Map<IdempotencyOutcome, Double> counts(String operation) {
		Map<IdempotencyOutcome, Double> counts = new EnumMap<>(IdempotencyOutcome.class);
		for (IdempotencyOutcome outcome : IdempotencyOutcome.values()) {
			Counter counter = this.registry.find("idempotency.requests")
				.tag("operation", operation)
				.tag("outcome", outcome.tagValue())
				.counter();
			counts.put(outcome, (counter != null) ? counter.count() : 0.0);
		}
		return counts;
	}

}
