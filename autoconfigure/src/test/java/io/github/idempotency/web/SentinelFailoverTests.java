package io.github.idempotency.web;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.github.idempotency.test.RedisProcess;
import io.github.idempotency.test.RedisSentinelProcesses;
import io.github.idempotency.web.app.Executions;
import io.github.idempotency.web.app.TestApplication;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The primary is killed while clients send requests and retries through Sentinel:
 * requests may get 503 while the replica is promoted, nothing answers 500, service
 * resumes on the new primary, and no key runs twice.
 */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "idempotency.key-prefix=failover-test")
@DirtiesContext
class SentinelFailoverTests {

	private static final String ORDER = "{\"item\":\"book\",\"quantity\":2}";

	private static RedisSentinelProcesses redis;

	@LocalServerPort
	private int port;

	@Autowired
	private Executions executions;

	@DynamicPropertySource
	static void sentinel(DynamicPropertyRegistry registry) {
		assumeTrue(RedisProcess.isAvailable(), "redis-server is not installed");
		try {
			redis = RedisSentinelProcesses.start();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		registry.add("spring.data.redis.sentinel.master", () -> RedisSentinelProcesses.MASTER_NAME);
		registry.add("spring.data.redis.sentinel.nodes", redis::sentinelNodes);
		registry.add("spring.data.redis.timeout", () -> "500ms");
	}

	@AfterAll
	static void stopRedis() {
		if (redis != null) {
			redis.close();
		}
	}

	@Test
	void killingThePrimaryShouldNeverRunAKeyTwice() throws Exception {
		TestHttp http = new TestHttp(this.port);
		String run = UUID.randomUUID().toString();
		Map<String, List<Integer>> answers = new ConcurrentHashMap<>();
		AtomicInteger freshSuccesses = new AtomicInteger();
		AtomicBoolean killed = new AtomicBoolean();
		AtomicLong firstFailure = new AtomicLong();
		AtomicLong lastFailure = new AtomicLong();
		AtomicInteger keys = new AtomicInteger();
		long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
		ExecutorService clients = Executors.newFixedThreadPool(4);
		try {
			List<Future<?>> futures = new ArrayList<>();
			for (int client = 0; client < 4; client++) {
				futures.add(clients.submit(() -> {
					while (System.nanoTime() < end) {
						String key = run + "-" + keys.incrementAndGet();
						// Each operation is sent, then retried once, as a client that
						// lost the first answer would.
						for (int attempt = 0; attempt < 2; attempt++) {
							HttpResponse<byte[]> response = http.post("/orders/slow")
								.key(key)
								.name(key)
								.header("X-Delay-Millis", "20")
								.json(ORDER)
								.send();
							answers.computeIfAbsent(key, (k) -> new ArrayList<>()).add(response.statusCode());
							if (response.statusCode() == 503) {
								firstFailure.compareAndSet(0, System.nanoTime());
								lastFailure.set(System.nanoTime());
							}
							if (response.statusCode() == 200
									&& response.headers().firstValue("Idempotent-Replayed").isEmpty()) {
								freshSuccesses.incrementAndGet();
							}
						}
						if (keys.get() > 40 && killed.compareAndSet(false, true)) {
							redis.master().kill();
						}
					}
					return null;
				}));
			}
			for (Future<?> future : futures) {
				future.get(60, TimeUnit.SECONDS);
			}
		}
		finally {
			clients.shutdownNow();
		}

		List<Integer> statuses = answers.values().stream().flatMap(List::stream).toList();
		long unavailableMillis = (firstFailure.get() != 0)
				? TimeUnit.NANOSECONDS.toMillis(lastFailure.get() - firstFailure.get()) : 0;
		System.out.printf(
				"Failover run: %d operations, %d requests, %d executions, %d answered 200 fresh, %d 409, %d 503,"
						+ " 503s spanning %d ms%n",
				answers.size(), statuses.size(), answers.keySet().stream().mapToInt(this.executions::count).sum(),
				freshSuccesses.get(), statuses.stream().filter((status) -> status == 409).count(),
				statuses.stream().filter((status) -> status == 503).count(), unavailableMillis);
		assertThat(killed).isTrue();
		assertThat(statuses).isSubsetOf(200, 409, 503);
		answers.keySet().forEach((key) -> assertThat(this.executions.count(key)).as(key).isLessThanOrEqualTo(1));
		assertThat(statusOnceRecovered(http, run)).isEqualTo(201);
	}

	// A Sentinel election that fails is held again only after twice the failover timeout,
	// so the replica may be promoted after the load has ended: recovery is awaited, each
	// try a new operation.
	private static int statusOnceRecovered(TestHttp http, String run) throws InterruptedException {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
		int status;
		int attempt = 0;
		do {
			String key = run + "-after-" + attempt++;
			status = http.post("/orders").key(key).name(key).json(ORDER).send().statusCode();
			if (status != 201) {
				Thread.sleep(200);
			}
		}
		while (status != 201 && System.nanoTime() < deadline);
		return status;
	}

}
