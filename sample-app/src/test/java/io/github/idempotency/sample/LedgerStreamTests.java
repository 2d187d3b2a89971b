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
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.idempotency.test.RedisTestServer;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.stream.Consumer;
import org.springframework.data.redis.connection.stream.MapRecord;
import org.springframework.data.redis.connection.stream.ReadOffset;
import org.springframework.data.redis.connection.stream.StreamOffset;
import org.springframework.data.redis.core.StreamOperations;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.stream.StreamMessageListenerContainer;
import org.springframework.data.redis.stream.StreamMessageListenerContainer.StreamReadRequest;
import org.springframework.data.redis.stream.Subscription;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The sample's ledger on the test Redis: two consumers in its consumer group, bookings
 * that take a while, and a quick reclaim of pending events. Each payment is booked once
 * whether its event is delivered twice, delivered to both consumers at once, or left
 * pending by a consumer that died before acknowledging it.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "sample.embedded-redis.enabled=false", "sample.ledger.booking-delay=1s",
				"sample.ledger.reclaim-idle=500ms", "sample.ledger.reclaim-interval=200ms" })
class LedgerStreamTests {

	// A stream of its own per run: Redis outlives the tests.
	static final String STREAM = "sample-test:payments.captured:" + UUID.randomUUID();

	static final Duration PATIENCE = Duration.ofSeconds(30);

	private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

	private final ObjectMapper json = new ObjectMapper();

	@LocalServerPort
	private int port;

	@Autowired
	private Bookkeeping bookkeeping;

	@Autowired
	private StringRedisTemplate redis;

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
		registry.add("sample.ledger.stream", () -> STREAM);
	}

	@Test
	void paymentShouldBeBookedOnceAlthoughItsEventIsDeliveredTwice() throws Exception {
		String payment = pay();
		await().atMost(PATIENCE).until(() -> bookings(payment).size() == 1);
		assertThat(post("/payments/" + payment + "/events").statusCode()).isEqualTo(202);
		await().atMost(PATIENCE).until(() -> deliveries(payment) >= 2 && pending() == 0);
		assertThat(bookings(payment)).hasSize(1);
	}

	@Test
	void duplicateDeliveredToTheOtherConsumerWhileTheFirstIsBookingShouldBeBookedOnce() throws Exception {
		String payment = pay();
		// Published again while the first consumer books: the second consumer gets it,
		// finds the booking in progress and leaves it pending; the reclaim books it once
		// the first has finished, which replays.
		assertThat(post("/payments/" + payment + "/events").statusCode()).isEqualTo(202);
		await().atMost(PATIENCE).until(() -> deliveries(payment) >= 3 && pending() == 0);
		assertThat(bookings(payment)).hasSize(1);
	}

	@Test
	void eventOfAConsumerThatDiedBeforeAcknowledgingShouldBeTakenOverAndNotBookedAgain() throws Exception {
		PaymentCaptured event = deliverToADeadConsumer();
		// It booked the event, then died before XACK: the reclaim takes the event over.
		this.bookkeeping.book(event);
		await().atMost(PATIENCE).until(() -> this.bookkeeping.deliveries(event.eventId()) >= 1 && pending() == 0);
		assertThat(bookings(event.paymentId())).hasSize(1);
	}

	@Test
	void eventWhoseBookingFailedShouldBeBookedOnceWhenDeliveredAgain() throws Exception {
		PaymentCaptured event = deliverToADeadConsumer();
		// A booking of the event fails (it is interrupted while it books), which frees
		// its key: the reclaim of the entry the dead consumer left pending books it,
		// long before the failed booking's lease would have run out.
		Thread booking = new Thread(() -> {
			try {
				this.bookkeeping.book(event);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		});
		booking.start();
		Thread.sleep(300);
		booking.interrupt();
		booking.join();
		assertThat(bookings(event.paymentId())).isEmpty();
		await().atMost(Duration.ofSeconds(10)).until(() -> bookings(event.paymentId()).size() == 1 && pending() == 0);
		assertThat(this.bookkeeping.deliveries(event.eventId())).isOne();
	}

	@Test
	void eventReusingTheIdOfAnotherShouldBeMovedToTheDeadLetterStream() throws Exception {
		StreamOperations<String, String, String> streams = this.redis.opsForStream();
		PaymentCaptured event = new PaymentCaptured(UUID.randomUUID().toString(), "pay_reused_" + UUID.randomUUID(),
				500, "EUR");
		streams.add(STREAM, event.toFields());
		await().atMost(PATIENCE).until(() -> bookings(event.paymentId()).size() == 1);
		streams.add(STREAM, new PaymentCaptured(event.eventId(), event.paymentId(), 900, "EUR").toFields());
		await().atMost(PATIENCE)
			.until(() -> streams.range(STREAM + ":dead-letters", Range.unbounded())
				.stream()
				.anyMatch((record) -> event.eventId().equals(record.getValue().get("eventId"))));
		await().atMost(PATIENCE).until(() -> pending() == 0);
		assertThat(bookings(event.paymentId())).singleElement()
			.satisfies((entry) -> assertThat(entry.get("booking").get("amount").asLong()).isEqualTo(500));
	}

	// Left pending, entries that fail on every delivery would fill the first page of
	// every reclaim for good, and keep the entries behind them from being taken over.
	@Test
	void entryThatFailsOnEveryDeliveryShouldBeMovedToTheDeadLetterStream() {
		StreamOperations<String, String, String> streams = this.redis.opsForStream();
		String eventId = UUID.randomUUID().toString();
		// No amount: it cannot be read as an event.
		streams.add(STREAM, Map.of("eventId", eventId, "paymentId", "pay_unreadable", "currency", "EUR"));
		await().atMost(PATIENCE)
			.until(() -> streams.range(STREAM + ":dead-letters", Range.unbounded())
				.stream()
				.anyMatch((record) -> eventId.equals(record.getValue().get("eventId"))
						&& "delivered 10 times without being booked".equals(record.getValue().get("reason"))));
		await().atMost(PATIENCE).until(() -> pending() == 0);
	}

	// The live consumers take every event the moment it is published while they wait
	// for one; while both are booking, an event published goes to whoever reads first.
	private PaymentCaptured deliverToADeadConsumer() throws Exception {
		StreamOperations<String, String, String> streams = this.redis.opsForStream();
		Consumer dead = Consumer.from("ledger", "dead-" + UUID.randomUUID());
		for (int attempt = 0; attempt < 10; attempt++) {
			pay();
			pay();
			// Each consumer has one of the two by now, and books it for a second.
			Thread.sleep(300);
			PaymentCaptured event = new PaymentCaptured(UUID.randomUUID().toString(), "pay_dead_" + UUID.randomUUID(),
					700, "EUR");
			streams.add(STREAM, event.toFields());
			List<MapRecord<String, String, String>> read = streams.read(dead,
					StreamOffset.create(STREAM, ReadOffset.lastConsumed()));
			if (read.stream().anyMatch((record) -> event.eventId().equals(record.getValue().get("eventId")))) {
				return event;
			}
		}
		throw new AssertionError("The live consumers took every event");
	}

	private String pay() throws IOException, InterruptedException {
		String reference = "order-" + UUID.randomUUID();
		HttpResponse<byte[]> response = this.client.send(HttpRequest.newBuilder(uri("/payments"))
			.header("Content-Type", "application/json")
			.header("Idempotency-Key", UUID.randomUUID().toString())
			.POST(HttpRequest.BodyPublishers.ofString(
					"{\"amount\": 1250, \"currency\": \"EUR\", \"reference\": \"" + reference + "\"}",
					StandardCharsets.UTF_8))
			.build(), HttpResponse.BodyHandlers.ofByteArray());
		assertThat(response.statusCode()).isEqualTo(201);
		return this.json.readTree(response.body()).get("id").asText();
	}

	private List<JsonNode> bookings(String payment) throws IOException {
		List<JsonNode> found = new ArrayList<>();
		this.json.readTree(send(HttpRequest.newBuilder(uri("/ledger")).GET().build()).body()).forEach((entry) -> {
			if (entry.get("booking").get("paymentId").asText().equals(payment)) {
				found.add(entry);
			}
		});
		return found;
	}

	private int deliveries(String payment) throws IOException {
		return bookings(payment).stream().mapToInt((entry) -> entry.get("deliveries").asInt()).max().orElse(0);
	}

	private long pending() {
		return this.redis.opsForStream().pending(STREAM, "ledger").getTotalPendingMessages();
	}

	private HttpResponse<byte[]> post(String path) {
		return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.noBody()).build());
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

	/**
	 * A second consumer in the ledger's group, as a second instance of the sample would
	 * run.
	 */
	@TestConfiguration(proxyBeanMethods = false)
	static class SecondConsumer {

		@Bean
		Subscription secondLedgerSubscription(
				StreamMessageListenerContainer<String, MapRecord<String, String, String>> container,
				StringRedisTemplate redis, Bookkeeping bookkeeping, SampleProperties properties) {
			SampleProperties.Ledger ledger = properties.ledger();
			SampleProperties.Ledger second = new SampleProperties.Ledger(true, ledger.stream(), ledger.group(),
					"second-" + UUID.randomUUID(), ledger.reclaimIdle(), ledger.reclaimInterval(),
					ledger.bookingDelay());
			LedgerConsumer consumer = new LedgerConsumer(redis, bookkeeping, second);
			return container
				.register(StreamReadRequest.builder(StreamOffset.create(ledger.stream(), ReadOffset.lastConsumed()))
					.consumer(Consumer.from(ledger.group(), consumer.name()))
					.autoAcknowledge(false)
					.cancelOnError((failure) -> false)
					.build(), consumer);
		}

	}

}
