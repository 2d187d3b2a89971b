package io.github.idempotency.web;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.idempotency.store.redis.RedisIdempotencyStore;
import io.github.idempotency.web.app.TestApplication;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code idempotency} Actuator endpoint reads and deletes real records in Redis, over
 * HTTP as an operator would.
 */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=endpoint-actuator-test",
				"management.endpoints.web.exposure.include=idempotency",
				"management.endpoint.idempotency.access=unrestricted",
				"management.endpoint.idempotency.show-values=when-authorized" })
class ActuatorEndpointTests extends AbstractWebTests {

	private static final String ORDER = "{\"item\":\"book\",\"quantity\":2}";

	private final HttpClient client = HttpClient.newHttpClient();

	@Autowired
	private MeterRegistry registry;

	@Autowired
	private RedisIdempotencyStore store;

	@Autowired
	private StringRedisTemplate redis;

	private final ObjectMapper json = new ObjectMapper();

	@Test
	void readShouldDescribeCompletedRecordWithoutBodyUnlessAsked() throws Exception {
		String key = UUID.randomUUID().toString();
		HttpResponse<byte[]> created = new TestHttp(this.port).post("/orders").key(key).name(key).json(ORDER).send();

		HttpResponse<String> read = actuator("GET", byKey("POST /orders", key));
		assertThat(read.statusCode()).isEqualTo(200);
		JsonNode record = this.json.readTree(read.body());
		assertThat(record.get("state").asText()).isEqualTo("completed");
		assertThat(record.get("recordKey").asText()).matches("[0-9a-f]{64}");
		assertThat(record.has("createdAt")).isTrue();
		assertThat(record.has("expiresAt")).isTrue();
		assertThat(record.at("/response/status").asInt()).isEqualTo(201);
		assertThat(record.at("/response/bodySize").asInt()).isEqualTo(created.body().length);
		assertThat(record.at("/response/headers/Location/0").asText()).isEqualTo("******");
		assertThat(record.get("fingerprint").asText()).isEqualTo("******");
		assertThat(record.at("/response/body").isMissingNode()).isTrue();

		String withBody = "/" + record.get("recordKey").asText() + "?body=true";
		assertThat(this.json.readTree(actuator("GET", withBody).body()).at("/response/body").asText())
			.isEqualTo("******");
		JsonNode shown = this.json.readTree(actuator("GET", withBody, "alice:alice-secret").body());
		assertThat(shown.at("/response/body").asText()).isEqualTo(new String(created.body(), StandardCharsets.UTF_8));
		assertThat(shown.at("/response/headers/Location/0").asText())
			.isEqualTo(created.headers().firstValue("Location").orElseThrow());
		assertThat(shown.get("fingerprint").asText()).isNotEqualTo("******").isNotBlank();
	}

	// What the logs tell operators to look at before they delete it.
	@Test
	void unreadableRecordShouldBeDescribedAsSuchAndDeletable() throws Exception {
		byte[] random = new byte[32];
		new SecureRandom().nextBytes(random);
		String recordKey = HexFormat.of().formatHex(random);
		this.redis.opsForValue().set(this.store.redisKey(recordKey), "not a record", Duration.ofMinutes(1));

		HttpResponse<String> read = actuator("GET", "/" + recordKey);
		assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
		JsonNode record = this.json.readTree(read.body());
		assertThat(record.get("state").asText()).isEqualTo("unreadable");
		assertThat(record.get("reason").asText()).contains("cannot be read");
		assertThat(this.json.readTree(actuator("DELETE", "/" + recordKey).body()).get("deleted").asBoolean()).isTrue();
	}

	@Test
	void deleteShouldFreeStuckClaimSoNextRequestRuns() throws Exception {
		String key = UUID.randomUUID().toString();
		TestHttp http = new TestHttp(this.port);
		ExecutorService executor = Executors.newSingleThreadExecutor();
		try {
			Future<HttpResponse<byte[]>> running = executor.submit(() -> http.post("/orders/slow")
				.key(key)
				.name(key)
				.header("X-Delay-Millis", "1500")
				.json(ORDER)
				.send());
			while (this.executions.count(key) == 0) {
				Thread.sleep(10);
			}
			JsonNode record = this.json.readTree(actuator("GET", byKey("POST /orders/slow", key)).body());
			assertThat(record.get("state").asText()).isEqualTo("in_progress");
			assertThat(record.has("response")).isFalse();

			HttpResponse<String> deleted = actuator("DELETE", byKey("POST /orders/slow", key));
			assertThat(this.json.readTree(deleted.body()).get("deleted").asBoolean()).isTrue();
			HttpResponse<byte[]> next = http.post("/orders/slow")
				.key(key)
				.name(key)
				.header("X-Delay-Millis", "0")
				.json(ORDER)
				.send();
			assertThat(next.statusCode()).isEqualTo(200);
			assertThat(this.executions.count(key)).isEqualTo(2);
			running.get(10, TimeUnit.SECONDS);
		}
		finally {
			executor.shutdownNow();
		}
	}

	@Test
	void readOfUnknownRecordShouldBe404() throws Exception {
		assertThat(actuator("GET", byKey("POST /orders", UUID.randomUUID().toString())).statusCode()).isEqualTo(404);
		assertThat(actuator("GET", "/" + "0".repeat(64)).statusCode()).isEqualTo(404);
	}

	@Test
	void anythingButARecordKeyShouldBeRefused() throws Exception {
		assertThat(actuator("GET", "/not-a-record-key").statusCode()).isEqualTo(400);
		assertThat(actuator("DELETE", "/not-a-record-key").statusCode()).isEqualTo(400);
		assertThat(actuator("DELETE", "/" + "A".repeat(64)).statusCode()).isEqualTo(400);
	}

	@Test
	void storeCallsShouldBeTimedLikeTheRequests() throws Exception {
		long finds = storeCallCount(this.registry, "find");
		long deletes = storeCallCount(this.registry, "delete");
		actuator("GET", "/" + "0".repeat(64));
		actuator("DELETE", "/" + "0".repeat(64));
		assertThat(storeCallCount(this.registry, "find") - finds).isEqualTo(1);
		assertThat(storeCallCount(this.registry, "delete") - deletes).isEqualTo(1);
	}

	@Test
	void recordOfAuthenticatedRequestShouldBeFoundWithPrincipal() throws Exception {
		String key = UUID.randomUUID().toString();
		new TestHttp(this.port).post("/orders").basic("alice", "alice-secret").key(key).name(key).json(ORDER).send();

		assertThat(actuator("GET", byKey("POST /orders", key)).statusCode()).isEqualTo(404);
		assertThat(actuator("GET", byKey("POST /orders", key) + "&principal=alice").statusCode()).isEqualTo(200);
	}

	private static String byKey(String operation, String key) {
		return "?operation=" + URLEncoder.encode(operation, StandardCharsets.UTF_8) + "&key="
				+ URLEncoder.encode(key, StandardCharsets.UTF_8);
	}

	private HttpResponse<String> actuator(String method, String path) throws Exception {
		return actuator(method, path, null);
	}

	private HttpResponse<String> actuator(String method, String path, @Nullable String credentials) throws Exception {
		HttpRequest.Builder request = HttpRequest
			.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/actuator/idempotency" + path))
			.method(method, HttpRequest.BodyPublishers.noBody());
		if (credentials != null) {
			request.header("Authorization",
					"Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
		}
		return this.client.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

}
