package io.github.idempotency.web;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.web.app.TestApplication;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Duplicates at scale, counted: every execution the handler makes is recorded, and every
 * answer is checked.
 */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=scale-test", "server.tomcat.threads.max=120" })
class DuplicateScaleTests extends AbstractWebTests {

	private static final String ORDER = "{\"item\":\"book\",\"quantity\":2}";

	@Test
	void thousandRequestsWithOneKeyFromHundredClientsShouldExecuteOnce() throws Exception {
		String key = UUID.randomUUID().toString();
		TestHttp http = new TestHttp(this.port);
		Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
		AtomicInteger replays = new AtomicInteger();
		runClients(100, 10, (client, request) -> {
			HttpResponse<byte[]> response = http.post("/orders/slow")
				.key(key)
				.name(key)
				.header("X-Delay-Millis", "1000")
				.json(ORDER)
				.send();
			statuses.computeIfAbsent(response.statusCode(), (status) -> new AtomicInteger()).incrementAndGet();
			if (response.headers().firstValue("Idempotent-Replayed").isPresent()) {
				replays.incrementAndGet();
			}
		});

		assertThat(this.executions.count(key)).isEqualTo(1);
		assertThat(statuses.keySet()).isSubsetOf(200, 409);
		int total = statuses.values().stream().mapToInt(AtomicInteger::get).sum();
		assertThat(total).isEqualTo(1000);
		assertThat(statuses.get(200).get()).isEqualTo(replays.get() + 1);
	}

	@Test
	void tenThousandRequestsOverThousandKeysShouldExecuteEachKeyOnce() throws Exception {
		String run = UUID.randomUUID().toString();
		List<String> keys = new ArrayList<>();
		for (int i = 0; i < 1000; i++) {
			for (int copy = 0; copy < 10; copy++) {
				keys.add(run + "-" + i);
			}
		}
		Collections.shuffle(keys);
		TestHttp http = new TestHttp(this.port);
		Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
		runClients(100, 100, (client, request) -> {
			String key = keys.get(client * 100 + request);
			HttpResponse<byte[]> response = http.post("/orders/slow")
				.key(key)
				.name(key)
				.header("X-Delay-Millis", "0")
				.json(ORDER)
				.send();
			statuses.computeIfAbsent(response.statusCode(), (status) -> new AtomicInteger()).incrementAndGet();
		});

		int executed = 0;
		for (int i = 0; i < 1000; i++) {
			assertThat(this.executions.count(run + "-" + i)).as("executions of key %d", i).isEqualTo(1);
			executed += this.executions.count(run + "-" + i);
		}
		assertThat(executed).isEqualTo(1000);
		assertThat(statuses.keySet()).isSubsetOf(200, 409);
		assertThat(statuses.values().stream().mapToInt(AtomicInteger::get).sum()).isEqualTo(10_000);
	}

	private static void runClients(int clients, int requestsEach, ClientRequest request) throws Exception {
		ExecutorService executor = Executors.newFixedThreadPool(clients);
		try {
			List<Future<?>> futures = new ArrayList<>();
			for (int client = 0; client < clients; client++) {
				int id = client;
				futures.add(executor.submit(() -> {
					for (int i = 0; i < requestsEach; i++) {
						request.send(id, i);
					}
					return null;
				}));
			}
			for (Future<?> future : futures) {
				future.get(120, TimeUnit.SECONDS);
			}
		}
		finally {
			executor.shutdownNow();
		}
	}

	@FunctionalInterface
	interface ClientRequest {

		void send(int client, int request) throws Exception;

	}

}
