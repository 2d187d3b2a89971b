package io.github.idempotency.sample;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;

import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.test.RedisTestServer;
import io.github.idempotency.json.JsonCanonicalizer;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A fleet in the middle of an upgrade: this sample, on the Spring Boot line of this
 * build, and the sample built for the other line (a real JVM started from its jar) share
 * one Redis. A payment made on either is replayed by the other, byte for byte; a key
 * reused with another payment is refused by the other; a payment still running on one
 * gets 409 from the other. The record format and the fingerprints (Jackson 2 on Boot 3.5,
 * Jackson 3 on Boot 4) are the same on both lines.
 * <p>
 * The other line's jar is named by the {@code sample.other-line.jar} system property (the
 * build sets it); without the jar the test is skipped, unless
 * {@code sample.other-line.required} is true, as in CI, which builds Boot 3.5 first.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "sample.embedded-redis.enabled=false", "idempotency.key-prefix=mixed-fleet" })
class MixedFleetTests {

	private static final String PAYMENT = "{\"amount\": 990, \"currency\": \"EUR\", \"reference\": \"%s\"}";

	// The same payment with its members in another order and other spacing.
	private static final String SAME_PAYMENT_REWRITTEN = "{ \"reference\":\"%s\",\"currency\":\"EUR\",\"amount\":990 }";

	private static final String OTHER_PAYMENT = "{\"amount\": 991, \"currency\": \"EUR\", \"reference\": \"%s\"}";

	private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

	@LocalServerPort
	private int port;

	@Autowired
	private JsonCanonicalizer canonicalizer;

	@Autowired
	private StringRedisTemplate redis;

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
	}

	@Test
	void recordsWrittenOnOneBootLineShouldBeReplayedOnTheOther() throws Exception {
		Path jar = otherLineJar();
		String otherVersion;
		try (JarFile file = new JarFile(jar.toFile())) {
			otherVersion = file.getManifest().getMainAttributes().getValue("Spring-Boot-Version");
		}
		String thisMajor = major(SpringBootVersion.getVersion());
		assertThat(major(otherVersion)).as("the other line").isNotEqualTo(thisMajor);
		assertThat(this.canonicalizer.getClass().getSimpleName())
			.isEqualTo(thisMajor.equals("4") ? "Jackson3JsonCanonicalizer" : "Jackson2JsonCanonicalizer");
		try (SampleInstance other = SampleInstance.start(List.of("-jar", jar.toString()),
				"--idempotency.key-prefix=mixed-fleet", "--sample.payments.processing-delay=1s")) {
			System.out.println("Mixed fleet: Spring Boot " + SpringBootVersion.getVersion() + " here, " + otherVersion
					+ " in the other instance");
			assertSharedRecords(other.port(), this.port);
			assertSharedRecords(this.port, other.port());
			assertInFlightClaimSeenByOtherLine(other.port(), this.port);
		}
	}

	// The writer takes a second per payment: once its claim is in Redis, the other line
	// must answer a duplicate with 409, then replay the writer's response.
	private void assertInFlightClaimSeenByOtherLine(int writer, int reader) throws Exception {
		String key = UUID.randomUUID().toString();
		String payment = PAYMENT.formatted("in-flight-" + key);
		String record = "mixed-fleet:{" + Hashing.recordKey("POST /payments", key) + "}";
		CompletableFuture<HttpResponse<String>> first = this.client.sendAsync(request(writer, key, payment),
				HttpResponse.BodyHandlers.ofString());
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
		while (!Boolean.TRUE.equals(this.redis.hasKey(record)) && System.nanoTime() < deadline) {
			Thread.sleep(10);
		}
		HttpResponse<String> duplicate = post(reader, key, payment);
		assertThat(duplicate.statusCode()).as(duplicate.body()).isEqualTo(409);
		assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(201);
		HttpResponse<String> replay = post(reader, key, payment);
		assertThat(replay.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(replay.body()).isEqualTo(first.get().body());
	}

	private void assertSharedRecords(int writer, int reader) throws Exception {
		String key = UUID.randomUUID().toString();
		String reference = "mixed-" + key;
		HttpResponse<String> first = post(writer, key, PAYMENT.formatted(reference));
		HttpResponse<String> replay = post(reader, key, SAME_PAYMENT_REWRITTEN.formatted(reference));
		HttpResponse<String> mismatch = post(reader, key, OTHER_PAYMENT.formatted(reference));

		assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
		assertThat(replay.statusCode()).isEqualTo(201);
		assertThat(replay.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(replay.body()).isEqualTo(first.body());
		assertThat(replay.headers().firstValue("Location")).isEqualTo(first.headers().firstValue("Location"));
		assertThat(mismatch.statusCode()).isEqualTo(422);
		assertThat(payments(writer)).contains(reference);
		assertThat(payments(reader)).doesNotContain(reference);
	}

	private static Path otherLineJar() {
		String name = System.getProperty("sample.other-line.jar", "");
		Path jar = Path.of(name);
		if (name.isEmpty() || !Files.isRegularFile(jar)) {
			String reason = "No sample jar of the other Spring Boot line at '" + name
					+ "': build it first (./mvnw verify, then ./mvnw verify -Dboot4)";
			if (Boolean.getBoolean("sample.other-line.required")) {
				fail(reason);
			}
			assumeTrue(false, reason);
		}
		return jar;
	}

	private static String major(String version) {
		return version.substring(0, version.indexOf('.'));
	}

	private HttpResponse<String> post(int port, String key, String body) throws Exception {
		return this.client.send(request(port, key, body), HttpResponse.BodyHandlers.ofString());
	}

	private static HttpRequest request(int port, String key, String body) {
		return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/payments"))
			.header("Idempotency-Key", key)
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(body))
			.build();
	}

	private String payments(int port) throws Exception {
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/payments")).build();
		return this.client.send(request, HttpResponse.BodyHandlers.ofString()).body();
	}

}
