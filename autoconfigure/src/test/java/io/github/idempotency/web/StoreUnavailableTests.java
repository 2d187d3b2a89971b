package io.github.idempotency.web;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.idempotency.test.RedisTestServer;
import io.github.idempotency.web.app.Executions;
import io.github.idempotency.web.app.TestApplication;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What requests get when Redis cannot be reached: nothing listens on the configured port.
 */
class StoreUnavailableTests {

	private static final String ORDER = "{\"item\":\"book\",\"quantity\":2}";

	static void unreachableRedis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", () -> {
			try {
				return "redis://127.0.0.1:" + RedisTestServer.freePort();
			}
			catch (IOException ex) {
				throw new IllegalStateException(ex);
			}
		});
		registry.add("spring.data.redis.timeout", () -> "500ms");
	}

	@Nested
	@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
	class Reject {

		@LocalServerPort
		private int port;

		@Autowired
		private Executions executions;

		@DynamicPropertySource
		static void redis(DynamicPropertyRegistry registry) {
			unreachableRedis(registry);
		}

		@Test
		void requestShouldGet503ProblemWithRetryAfterAndNotRun() throws Exception {
			String key = UUID.randomUUID().toString();
			HttpResponse<byte[]> response = new TestHttp(this.port).post("/orders")
				.key(key)
				.name(key)
				.json(ORDER)
				.send();

			assertThat(response.statusCode()).isEqualTo(503);
			assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
			assertThat(response.headers().firstValue("Retry-After")).hasValue("5");
			JsonNode problem = new ObjectMapper().readTree(response.body());
			assertThat(problem.get("code").asText()).isEqualTo("idempotency-store-unavailable");
			assertThat(problem.get("type").asText())
				.isEqualTo("urn:problem-type:idempotency:idempotency-store-unavailable");
			assertThat(this.executions.count(key)).isZero();
		}

	}

	@Nested
	@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
			properties = "idempotency.on-store-failure=proceed")
	class Proceed {

		@LocalServerPort
		private int port;

		@Autowired
		private Executions executions;

		@DynamicPropertySource
		static void redis(DynamicPropertyRegistry registry) {
			unreachableRedis(registry);
		}

		@Test
		void requestShouldRunWithoutIdempotency() {
			String key = UUID.randomUUID().toString();
			TestHttp http = new TestHttp(this.port);
			HttpResponse<byte[]> first = http.post("/orders").key(key).name(key).json(ORDER).send();
			HttpResponse<byte[]> second = http.post("/orders").key(key).name(key).json(ORDER).send();

			assertThat(first.statusCode()).isEqualTo(201);
			assertThat(second.statusCode()).isEqualTo(201);
			assertThat(second.headers().firstValue("Idempotent-Replayed")).isEmpty();
			assertThat(this.executions.count(key)).isEqualTo(2);
		}

	}

}
