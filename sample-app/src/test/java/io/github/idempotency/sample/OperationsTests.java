package io.github.idempotency.sample;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.idempotency.test.RedisTestServer;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What an operator of the sample sees: the requests metric, the idempotency endpoint, and
 * the OpenAPI description with the key header.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "sample.embedded-redis.enabled=false", "management.server.port=0" })
class OperationsTests {

	private final HttpClient client = HttpClient.newHttpClient();

	private final ObjectMapper json = new ObjectMapper();

	@LocalServerPort
	private int port;

	@Value("${local.management.port}")
	private int managementPort;

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
	}

	@Test
	void metricsEndpointShouldCountRequestsByOutcome() throws Exception {
		String key = UUID.randomUUID().toString();
		pay(key);
		pay(key);

		JsonNode metric = this.json.readTree(
				manage("/actuator/metrics/idempotency.requests?tag=operation:POST%20/payments&tag=outcome:replayed")
					.body());
		assertThat(metric.at("/measurements/0/value").asDouble()).isGreaterThanOrEqualTo(1.0);
	}

	@Test
	void idempotencyEndpointShouldShowRecord() throws Exception {
		String key = UUID.randomUUID().toString();
		pay(key);

		HttpResponse<String> record = manage("/actuator/idempotency?operation="
				+ URLEncoder.encode("POST /payments", StandardCharsets.UTF_8) + "&key=" + key);
		assertThat(record.statusCode()).isEqualTo(200);
		assertThat(this.json.readTree(record.body()).at("/response/status").asInt()).isEqualTo(201);
	}

	@Test
	void idempotencyEndpointShouldNotBeReachableOnTheApiPort() throws Exception {
		String key = UUID.randomUUID().toString();
		pay(key);

		assertThat(get("/actuator/idempotency?operation=" + URLEncoder.encode("POST /payments", StandardCharsets.UTF_8)
				+ "&key=" + key)
			.statusCode()).isEqualTo(404);
		assertThat(this.client
			.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/actuator/idempotency/x"))
				.DELETE()
				.build(), HttpResponse.BodyHandlers.ofString())
			.statusCode()).isIn(404, 405);
	}

	@Test
	void openApiShouldDocumentKeyHeaderAndSwaggerUiShouldServe() throws Exception {
		JsonNode docs = this.json.readTree(get("/v3/api-docs").body());
		assertThat(docs.at("/paths/~1payments/post/parameters/0/name").asText()).isEqualTo("Idempotency-Key");
		assertThat(docs.at("/paths/~1payments/get/parameters").isMissingNode()).isTrue();
		assertThat(get("/swagger-ui/index.html").statusCode()).isEqualTo(200);
	}

	private void pay(String key) throws Exception {
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/payments"))
			.header("Idempotency-Key", key)
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers
				.ofString("{\"amount\": 100, \"currency\": \"EUR\", \"reference\": \"ops\"}"))
			.build();
		assertThat(this.client.send(request, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(201);
	}

	private HttpResponse<String> manage(String path) throws Exception {
		return this.client.send(
				HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.managementPort + path)).build(),
				HttpResponse.BodyHandlers.ofString());
	}

	private HttpResponse<String> get(String path) throws Exception {
		return this.client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + path)).build(),
				HttpResponse.BodyHandlers.ofString());
	}

}
