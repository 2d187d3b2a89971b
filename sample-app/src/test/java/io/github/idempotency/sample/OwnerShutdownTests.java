package io.github.idempotency.sample;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.test.RedisTestServer;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The instance running a request goes away mid-request (a real JVM). Killed with SIGKILL,
 * as a crash kills it: its claim stops being renewed, duplicates get 409 until the lock
 * timeout passes, and then another instance takes the key over and runs it. Stopped with
 * SIGTERM, as a rolling deployment stops it: Spring Boot's graceful shutdown lets the
 * request finish, the starter is still there for it (the lease renewed, the response
 * stored before the instance exits), and a retry sent to another instance gets the replay
 * rather than a second charge.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
		"sample.embedded-redis.enabled=false", "idempotency.key-prefix=crash-test", "idempotency.lock-timeout=3s" })
class OwnerShutdownTests {

	private static final String PAYMENT = "{\"amount\": 1250, \"currency\": \"EUR\", \"reference\": \"crash\"}";

	private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

	@LocalServerPort
	private int port;

	@Autowired
	private StringRedisTemplate redis;

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
	}

	@Test
	void killedOwnerShouldBlockDuplicatesUntilLockTimeoutThenLetAnotherInstanceRun() throws Exception {
		try (SampleInstance owner = startOwner("3s", "60s")) {
			String key = UUID.randomUUID().toString();
			CompletableFuture<HttpResponse<String>> abandoned = this.client.sendAsync(post(owner.port(), key),
					HttpResponse.BodyHandlers.ofString());
			awaitClaimed(key);

			owner.kill();
			long killed = System.nanoTime();
			assertThat(abandoned).failsWithin(Duration.ofSeconds(10));

			HttpResponse<String> duplicate = this.client.send(post(this.port, key),
					HttpResponse.BodyHandlers.ofString());
			assertThat(duplicate.statusCode()).isEqualTo(409);
			HttpResponse<String> takeover;
			do {
				Thread.sleep(200);
				takeover = this.client.send(post(this.port, key), HttpResponse.BodyHandlers.ofString());
			}
			while (takeover.statusCode() == 409 && System.nanoTime() - killed < TimeUnit.SECONDS.toNanos(15));
			long blockedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);

			System.out.println("Owner killed: duplicates got 409 for " + blockedMillis
					+ " ms (lock timeout 3 s), then another instance took the key over");
			assertThat(takeover.statusCode()).isEqualTo(201);
			assertThat(blockedMillis).isBetween(1000L, 6000L);
			HttpResponse<String> replay = this.client.send(post(this.port, key), HttpResponse.BodyHandlers.ofString());
			assertThat(replay.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		}
	}

	@Test
	void stoppedOwnerShouldFinishTheRequestAndLeaveItsResponseToAnotherInstance() throws Exception {
		// The charge outlasts the owner's lock timeout several times over: only renewals
		// during the shutdown keep the key from another instance.
		try (SampleInstance owner = startOwner("900ms", "3s")) {
			String key = UUID.randomUUID().toString();
			CompletableFuture<HttpResponse<String>> inFlight = this.client.sendAsync(post(owner.port(), key),
					HttpResponse.BodyHandlers.ofString());
			awaitClaimed(key);

			long stopping = System.nanoTime();
			owner.terminate();
			Thread.sleep(1500);
			HttpResponse<String> duplicate = this.client.send(post(this.port, key),
					HttpResponse.BodyHandlers.ofString());
			assertThat(duplicate.statusCode()).as(duplicate.body()).isEqualTo(409);

			HttpResponse<String> first = inFlight.get(30, TimeUnit.SECONDS);
			assertThat(owner.exited(Duration.ofSeconds(30))).as("the owner exited").isTrue();
			System.out.println("Owner stopped mid-request: it answered " + first.statusCode() + " and exited "
					+ TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopping) + " ms after SIGTERM");
			assertThat(first.statusCode()).as(owner.log()).isEqualTo(201);
			HttpResponse<String> retry = this.client.send(post(this.port, key), HttpResponse.BodyHandlers.ofString());
			assertThat(retry.statusCode()).isEqualTo(201);
			assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
			assertThat(retry.body()).isEqualTo(first.body());
		}
	}

	// Another instance of the sample, in its own JVM, that runs the requests sent to it.
	private static SampleInstance startOwner(String lockTimeout, String processingDelay) throws Exception {
		return SampleInstance.start(
				List.of("-cp", System.getProperty("java.class.path"), SampleApplication.class.getName()),
				"--idempotency.key-prefix=crash-test", "--idempotency.lock-timeout=" + lockTimeout,
				"--sample.payments.processing-delay=" + processingDelay);
	}

	// The owner is inside its charge once its claim is in Redis. Read from Redis
	// rather than probed with a duplicate: a probe sent before the owner's cold first
	// request got there would claim the key itself.
	private void awaitClaimed(String key) throws Exception {
		String record = "crash-test:{" + Hashing.recordKey("POST /payments", key) + "}";
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
		while (System.nanoTime() < deadline) {
			if (Boolean.TRUE.equals(this.redis.hasKey(record))) {
				return;
			}
			Thread.sleep(50);
		}
		throw new AssertionError("The owner never claimed the key");
	}

	private static HttpRequest post(int port, String key) {
		return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/payments"))
			.header("Idempotency-Key", key)
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(PAYMENT))
			.build();
	}

}
