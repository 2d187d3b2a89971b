package io.github.idempotency.sample;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.idempotency.test.RedisTestServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sample's contract, end to end: the app on a random port, real HTTP, a real Redis.
 * Payments are counted through {@code GET /payments}, so every "ran once" below is what
 * the API itself reports.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "sample.embedded-redis.enabled=false", "sample.payments.processing-delay=300ms" })
class PaymentsApiTests {

	private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

	private final ObjectMapper json = new ObjectMapper();

	@LocalServerPort
	private int port;

	private String key;

	private String reference;

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
	}

	@BeforeEach
	void newKeyAndReference() {
		this.key = UUID.randomUUID().toString();
		this.reference = "order-" + this.key;
	}

	@Test
	void createShouldAnswer201WithLocationAndPayment() throws Exception {
		HttpResponse<byte[]> response = post("/payments", this.key, payment(1250, "EUR", this.reference));

		assertThat(response.statusCode()).isEqualTo(201);
		JsonNode payment = this.json.readTree(response.body());
		assertThat(response.headers().firstValue("Location")).hasValue("/payments/" + payment.get("id").asText());
		assertThat(payment.get("amount").asLong()).isEqualTo(1250);
		assertThat(payment.get("currency").asText()).isEqualTo("EUR");
		assertThat(payment.get("reference").asText()).isEqualTo(this.reference);
		assertThat(payment.get("status").asText()).isEqualTo("succeeded");
		assertThat(payment.get("createdAt").asText()).isNotBlank();
		assertThat(get(response.headers().firstValue("Location").orElseThrow()).statusCode()).isEqualTo(200);
	}

	@Test
	void retryShouldReplaySameBytesAndLocation() throws Exception {
		HttpResponse<byte[]> first = post("/payments", this.key, payment(1250, "EUR", this.reference));
		HttpResponse<byte[]> retry = post("/payments", this.key, payment(1250, "EUR", this.reference));

		assertThat(retry.statusCode()).isEqualTo(201);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(retry.headers().firstValue("Location")).isEqualTo(first.headers().firstValue("Location"));
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(paymentsWithReference(this.reference)).hasSize(1);
	}

	@Test
	void twentyFiveSequentialRetriesShouldCreateOnePayment() throws Exception {
		for (int i = 0; i < 25; i++) {
			assertThat(post("/payments", this.key, payment(1250, "EUR", this.reference)).statusCode()).isEqualTo(201);
		}
		assertThat(paymentsWithReference(this.reference)).hasSize(1);
	}

	@Test
	void twentyFourConcurrentDuplicatesShouldCreateOnePayment() throws Exception {
		int clients = 24;
		ExecutorService executor = Executors.newFixedThreadPool(clients);
		try {
			CountDownLatch start = new CountDownLatch(1);
			List<Future<HttpResponse<byte[]>>> futures = new ArrayList<>();
			for (int i = 0; i < clients; i++) {
				futures.add(executor.submit(() -> {
					start.await();
					return post("/payments", this.key, payment(1250, "EUR", this.reference));
				}));
			}
			start.countDown();
			List<Integer> statuses = new ArrayList<>();
			for (Future<HttpResponse<byte[]>> future : futures) {
				statuses.add(future.get(30, TimeUnit.SECONDS).statusCode());
			}
			assertThat(statuses).containsOnly(201, 409).contains(201);
			assertThat(paymentsWithReference(this.reference)).hasSize(1);
		}
		finally {
			executor.shutdownNow();
		}
	}

	@Test
	void missingKeyShouldGet400Problem() throws Exception {
		HttpResponse<byte[]> response = post("/payments", null, payment(1250, "EUR", this.reference));

		assertThat(response.statusCode()).isEqualTo(400);
		assertThat(this.json.readTree(response.body()).get("code").asText()).isEqualTo("idempotency-key-missing");
		assertThat(paymentsWithReference(this.reference)).isEmpty();
	}

	@Test
	void otherPayloadWithSameKeyShouldGet422() throws Exception {
		post("/payments", this.key, payment(1250, "EUR", this.reference));
		HttpResponse<byte[]> reuse = post("/payments", this.key, payment(9900, "EUR", this.reference));

		assertThat(reuse.statusCode()).isEqualTo(422);
		assertThat(this.json.readTree(reuse.body()).get("code").asText()).isEqualTo("idempotency-key-mismatch");
		assertThat(paymentsWithReference(this.reference)).hasSize(1);
	}

	@Test
	void invalidBodyShouldGet400ProblemAndLeaveKeyUnused() throws Exception {
		HttpResponse<byte[]> invalid = post("/payments", this.key, payment(-5, "euro", this.reference));
		HttpResponse<byte[]> corrected = post("/payments", this.key, payment(1250, "EUR", this.reference));

		assertThat(invalid.statusCode()).isEqualTo(400);
		assertThat(invalid.headers().firstValue("Content-Type")).hasValue("application/problem+json");
		assertThat(corrected.statusCode()).isEqualTo(201);
		assertThat(corrected.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(paymentsWithReference(this.reference)).hasSize(1);
	}

	@Test
	void declinedPaymentShouldBeReplayedWithoutCallingProviderAgain() throws Exception {
		HttpResponse<byte[]> first = post("/payments", this.key, payment(2_000_000, "EUR", this.reference));
		HttpResponse<byte[]> retry = post("/payments", this.key, payment(2_000_000, "EUR", this.reference));

		assertThat(first.statusCode()).isEqualTo(402);
		assertThat(this.json.readTree(first.body()).get("type").asText())
			.isEqualTo("urn:problem-type:sample:payment-declined");
		assertThat(retry.statusCode()).isEqualTo(402);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(paymentsWithReference(this.reference)).hasSize(1);
	}

	@Test
	void providerOutageShouldLetRetryRunAgainAndSucceed() throws Exception {
		String outage = "outage-" + this.key;
		HttpResponse<byte[]> first = post("/payments", this.key, payment(1250, "EUR", outage));
		HttpResponse<byte[]> retry = post("/payments", this.key, payment(1250, "EUR", outage));

		assertThat(first.statusCode()).isEqualTo(503);
		assertThat(this.json.readTree(first.body()).get("type").asText())
			.isEqualTo("urn:problem-type:sample:provider-unavailable");
		assertThat(retry.statusCode()).isEqualTo(201);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(paymentsWithReference(outage)).extracting((payment) -> payment.get("status").asText())
			.containsExactly("failed", "succeeded");
	}

	@Test
	void refundShouldBeIdempotentAndIndependentOfPaymentKey() throws Exception {
		JsonNode payment = this.json.readTree(post("/payments", this.key, payment(1250, "EUR", this.reference)).body());
		String refunds = "/payments/" + payment.get("id").asText() + "/refunds";
		HttpResponse<byte[]> refund = post(refunds, this.key, "{\"amount\": 100}");
		HttpResponse<byte[]> retry = post(refunds, this.key, "{\"amount\": 100}");

		assertThat(refund.statusCode()).isEqualTo(201);
		JsonNode body = this.json.readTree(refund.body());
		assertThat(body.get("amount").asLong()).isEqualTo(100);
		assertThat(body.get("paymentId").asText()).isEqualTo(payment.get("id").asText());
		assertThat(body.get("status").asText()).isEqualTo("succeeded");
		assertThat(retry.body()).isEqualTo(refund.body());
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.json.readTree(get(refunds).body())).hasSize(1);
	}

	@Test
	void listingShouldShowEveryPayment() throws Exception {
		post("/payments", this.key, payment(1250, "EUR", this.reference));
		post("/payments", UUID.randomUUID().toString(), payment(700, "USD", this.reference));

		assertThat(paymentsWithReference(this.reference)).extracting((payment) -> payment.get("currency").asText())
			.containsExactly("EUR", "USD");
	}

	private static String payment(long amount, String currency, String reference) {
		return "{\"amount\": " + amount + ", \"currency\": \"" + currency + "\", \"reference\": \"" + reference + "\"}";
	}

	private List<JsonNode> paymentsWithReference(String reference) throws IOException {
		List<JsonNode> found = new ArrayList<>();
		this.json.readTree(get("/payments").body()).forEach((payment) -> {
			if (payment.get("reference").asText().equals(reference)) {
				found.add(payment);
			}
		});
		return found;
	}

	private HttpResponse<byte[]> post(String path, String key, String body) {
		HttpRequest.Builder request = HttpRequest.newBuilder(uri(path))
			.timeout(Duration.ofSeconds(30))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
		if (key != null) {
			request.header("Idempotency-Key", key);
		}
		return send(request.build());
	}

	private HttpResponse<byte[]> get(String path) {
		return send(HttpRequest.newBuilder(uri(path)).GET().build());
	}

	private HttpResponse<byte[]> send(HttpRequest request) {
		try {
			return this.client.send(request, HttpResponse.BodyHandlers.ofByteArray());
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	private URI uri(String path) {
		return URI.create("http://127.0.0.1:" + this.port + path);
	}

}
