package io.github.idempotency.web;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.web.app.TestApplication;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With {@code idempotency.wait-timeout} set, duplicates of a request in flight wait for
 * it and get its response.
 */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=wait-test", "idempotency.wait-timeout=3s" })
class WaitForInFlightTests extends AbstractWebTests {

	private static final String ORDER = "{\"item\":\"book\",\"quantity\":2}";

	@Test
	void duplicatesWithinWaitTimeoutShouldAllGetTheOneResponse() throws Exception {
		TestHttp http = new TestHttp(this.port);
		String key = UUID.randomUUID().toString();
		int clients = 20;
		ExecutorService executor = Executors.newFixedThreadPool(clients);
		try {
			CountDownLatch start = new CountDownLatch(1);
			List<Future<HttpResponse<byte[]>>> futures = new ArrayList<>();
			for (int i = 0; i < clients; i++) {
				futures.add(executor.submit(() -> {
					start.await();
					return http.post("/orders/slow")
						.key(key)
						.name(key)
						.header("X-Delay-Millis", "600")
						.json(ORDER)
						.send();
				}));
			}
			start.countDown();
			List<HttpResponse<byte[]>> responses = new ArrayList<>();
			for (Future<HttpResponse<byte[]>> future : futures) {
				responses.add(future.get(30, TimeUnit.SECONDS));
			}
			byte[] original = responses.stream()
				.filter((response) -> response.headers().firstValue("Idempotent-Replayed").isEmpty())
				.findFirst()
				.orElseThrow()
				.body();
			assertThat(responses).allSatisfy((response) -> {
				assertThat(response.statusCode()).isEqualTo(200);
				assertThat(response.body()).isEqualTo(original);
			});
			assertThat(responses)
				.filteredOn((response) -> response.headers().firstValue("Idempotent-Replayed").isPresent())
				.hasSize(clients - 1);
			assertThat(this.executions.count(key)).isEqualTo(1);
		}
		finally {
			executor.shutdownNow();
		}
	}

	@Test
	void duplicateOutlastedByFirstRequestShouldGet409AfterWaiting() {
		TestHttp http = new TestHttp(this.port);
		String key = UUID.randomUUID().toString();
		ExecutorService executor = Executors.newSingleThreadExecutor();
		try {
			executor.submit(() -> http.post("/orders/slow")
				.key(key)
				.name(key)
				.header("X-Delay-Millis", "5000")
				.json(ORDER)
				.send());
			while (this.executions.count(key) == 0) {
				Thread.onSpinWait();
			}
			long started = System.nanoTime();
			HttpResponse<byte[]> duplicate = http.post("/orders/slow")
				.key(key)
				.name(key)
				.header("X-Delay-Millis", "0")
				.json(ORDER)
				.send();
			long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

			assertThat(duplicate.statusCode()).isEqualTo(409);
			assertThat(waitedMillis).isGreaterThanOrEqualTo(2900);
			assertThat(this.executions.count(key)).isEqualTo(1);
		}
		finally {
			executor.shutdownNow();
		}
	}

}
