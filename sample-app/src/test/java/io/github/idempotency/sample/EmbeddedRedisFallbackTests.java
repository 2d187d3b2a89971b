package io.github.idempotency.sample;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;

import io.github.idempotency.test.RedisTestServer;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * On a machine where no Redis answers, the sample starts an embedded one at the
 * configured address and works.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class EmbeddedRedisFallbackTests {

	private static final int REDIS_PORT = unusedPort();

	@LocalServerPort
	private int port;

	@DynamicPropertySource
	static void redisWhereNothingListens(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.host", () -> "127.0.0.1");
		registry.add("spring.data.redis.port", () -> REDIS_PORT);
	}

	@Test
	void paymentsShouldBeIdempotentAgainstEmbeddedRedis() throws Exception {
		HttpClient client = HttpClient.newHttpClient();
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/payments"))
			.header("Idempotency-Key", UUID.randomUUID().toString())
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers
				.ofString("{\"amount\": 1250, \"currency\": \"EUR\", \"reference\": \"x\"}"))
			.build();
		HttpResponse<String> first = client.send(request, HttpResponse.BodyHandlers.ofString());
		HttpResponse<String> retry = client.send(request, HttpResponse.BodyHandlers.ofString());

		assertThat(first.statusCode()).isEqualTo(201);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.body()).isEqualTo(first.body());
	}

	private static int unusedPort() {
		try {
			return RedisTestServer.freePort();
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
