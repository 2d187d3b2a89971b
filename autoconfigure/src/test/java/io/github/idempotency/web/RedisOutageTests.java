package io.github.idempotency.web;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.idempotency.test.RedisProcess;
import io.github.idempotency.web.app.Executions;
import io.github.idempotency.web.app.TestApplication;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real Redis killed, restarted and paused under a running application: requests get a
 * clear answer in bounded time, never a 500 or a hung thread, and service resumes by
 * itself.
 */
class RedisOutageTests {

	private static final String ORDER = "{\"item\":\"book\",\"quantity\":2}";

	private static final ObjectMapper json = new ObjectMapper();

	static RedisProcess startRedis(DynamicPropertyRegistry registry) {
		RedisProcess redis = RedisProcess.launchOrSkip();
		registry.add("spring.data.redis.url", redis::url);
		registry.add("spring.data.redis.timeout", () -> "500ms");
		return redis;
	}

	static long millisSince(long start) {
		return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
	}

	@Nested
	@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
	@DirtiesContext
	class Reject {

		private static RedisProcess redis;

		@LocalServerPort
		private int port;

		@Autowired
		private Executions executions;

		@DynamicPropertySource
		static void redis(DynamicPropertyRegistry registry) {
			redis = startRedis(registry);
		}

		@AfterAll
		static void stopRedis() {
			if (redis != null) {
				redis.close();
			}
		}

		@Test
		void killedRedisShouldGive503UntilItIsBackThenResume() throws Exception {
			TestHttp http = new TestHttp(this.port);
			assertServiceResumes(http);

			redis.kill();
			for (int i = 0; i < 5; i++) {
				String key = UUID.randomUUID().toString();
				long start = System.nanoTime();
				HttpResponse<byte[]> response = http.post("/orders").key(key).name(key).json(ORDER).send();
				assertThat(millisSince(start)).isLessThan(3000);
				assertThat(response.statusCode()).isEqualTo(503);
				assertThat(response.headers().firstValue("Retry-After")).hasValue("5");
				assertThat(json.readTree(response.body()).get("code").asText())
					.isEqualTo("idempotency-store-unavailable");
				assertThat(this.executions.count(key)).isZero();
			}

			redis.start();
			assertServiceResumes(http);
		}

		@Test
		void pausedRedisShouldGive503WithinCommandTimeoutNotHang() throws InterruptedException {
			TestHttp http = new TestHttp(this.port);
			redis.pauseClients(Duration.ofSeconds(3));
			String key = UUID.randomUUID().toString();
			long start = System.nanoTime();
			HttpResponse<byte[]> response = http.post("/orders").key(key).name(key).json(ORDER).send();
			long waited = millisSince(start);

			assertThat(response.statusCode()).isEqualTo(503);
			assertThat(waited).isBetween(400L, 2500L);
			assertThat(this.executions.count(key)).isZero();
			assertServiceResumes(http);
		}

		// A fresh key each time: a claim sent while Redis stalled is still applied when
		// it
		// resumes, after its request got 503, and retries of that key get 409 until the
		// lock timeout.
		private void assertServiceResumes(TestHttp http) throws InterruptedException {
			String key;
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
			int status;
			do {
				key = UUID.randomUUID().toString();
				status = http.post("/orders").key(key).name(key).json(ORDER).send().statusCode();
				assertThat(status).isIn(201, 503);
				if (status != 201) {
					Thread.sleep(100);
				}
			}
			while (status != 201 && System.nanoTime() < deadline);
			assertThat(status).isEqualTo(201);
			assertThat(this.executions.count(key)).isEqualTo(1);
		}

	}

	@Nested
	@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
			properties = "idempotency.on-store-failure=proceed")
	@DirtiesContext
	@ExtendWith(OutputCaptureExtension.class)
	class Proceed {

		@Autowired
		private MeterRegistry registry;

		private static RedisProcess redis;

		@LocalServerPort
		private int port;

		@Autowired
		private Executions executions;

		@DynamicPropertySource
		static void redis(DynamicPropertyRegistry registry) {
			redis = startRedis(registry);
		}

		@AfterAll
		static void stopRedis() {
			if (redis != null) {
				redis.close();
			}
		}

		@Test
		void killedRedisShouldLetRequestsRunWithWarning(CapturedOutput output) {
			TestHttp http = new TestHttp(this.port);
			redis.kill();
			String key = UUID.randomUUID().toString();
			HttpResponse<byte[]> first = http.post("/orders").key(key).name(key).json(ORDER).send();
			HttpResponse<byte[]> second = http.post("/orders").key(key).name(key).json(ORDER).send();

			assertThat(first.statusCode()).isEqualTo(201);
			assertThat(second.statusCode()).isEqualTo(201);
			assertThat(second.headers().firstValue("Idempotent-Replayed")).isEmpty();
			assertThat(this.executions.count(key)).isEqualTo(2);
			assertThat(output).contains("without idempotency (idempotency.on-store-failure=proceed)");
			assertThat(this.registry.get("idempotency.requests")
				.tag("operation", "POST /orders")
				.tag("outcome", "store_error")
				.counter()
				.count()).isEqualTo(2);
			assertThat(output.toString().split("Idempotency store unavailable", -1)).as("one warning per burst")
				.hasSize(2);
		}

	}

}
