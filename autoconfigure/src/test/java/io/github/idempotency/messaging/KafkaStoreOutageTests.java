package io.github.idempotency.messaging;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.test.KafkaTestBroker;
import io.github.idempotency.test.RedisProcess;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.support.KafkaHeaders;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.messaging.handler.annotation.Payload;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.util.backoff.FixedBackOff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An idempotent Kafka listener whose Redis is killed under it, in a container whose
 * application error handler dead-letters every failure at once: a record that arrives
 * while the store cannot be reached is neither processed unprotected nor dead-lettered
 * nor skipped; it waits, and is processed once the store is back.
 */
@SpringBootTest(classes = KafkaStoreOutageTests.OutageApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE,
		properties = { "idempotency.key-prefix=kafka-outage-test", "idempotency.store-unavailable-retry-after=200ms",
				"spring.data.redis.timeout=500ms", "spring.kafka.consumer.auto-offset-reset=earliest",
				"spring.kafka.listener.poll-timeout=500ms", "logging.level.org.apache.kafka=warn",
				"logging.level.kafka=warn", "logging.level.state.change.logger=warn",
				"logging.level.org.springframework.kafka.listener.KafkaMessageListenerContainer=off",
				"logging.level.io.github.idempotency=off", "logging.level.io.lettuce=off" })
class KafkaStoreOutageTests {

	static final String TOPIC = "payments-store-outage";

	private static RedisProcess redis;

	@Autowired
	KafkaTemplate<String, String> kafka;

	@Autowired
	OutageListener listener;

	@Autowired
	KafkaDeliveries deliveries;

	@Autowired
	DeadLetters deadLetters;

	// More failed deliveries than Spring Kafka's default handler makes before it skips
	// a record, and than the application's, which dead-letters at the first.
	@Test
	void recordArrivingWhileTheStoreIsDownShouldWaitAndBeProcessedOnceWhenItIsBack() throws IOException {
		String before = "payment-" + UUID.randomUUID();
		this.kafka.send(TOPIC, before, "10").join();
		await().atMost(Duration.ofSeconds(30)).until(() -> this.deliveries.processed(before) == 1);

		redis.kill();
		String during = "payment-" + UUID.randomUUID();
		this.kafka.send(TOPIC, during, "20").join();
		await().atMost(Duration.ofSeconds(60)).until(() -> this.deliveries.failures(during) >= 12);
		assertThat(this.listener.bookings(during)).isEmpty();
		assertThat(this.deliveries.processed(during)).isZero();
		assertThat(this.deadLetters.received()).isEmpty();

		redis.start();
		// Lettuce reconnects ever less often while Redis is down, up to every 30 s.
		await().atMost(Duration.ofSeconds(60)).until(() -> this.deliveries.processed(during) == 1);
		assertThat(this.listener.bookings(during)).containsExactly("20");
		String after = "payment-" + UUID.randomUUID();
		this.kafka.send(TOPIC, after, "30").join();
		await().atMost(Duration.ofSeconds(30)).until(() -> this.deliveries.processed(after) == 1);
		assertThat(this.listener.bookings(after)).containsExactly("30");
		assertThat(this.listener.bookings(before)).containsExactly("10");
		assertThat(this.deadLetters.received()).isEmpty();
	}

	@DynamicPropertySource
	static void servers(DynamicPropertyRegistry registry) {
		redis = RedisProcess.launchOrSkip();
		registry.add("spring.data.redis.url", redis::url);
		registry.add("spring.kafka.bootstrap-servers", KafkaTestBroker::bootstrapServers);
	}

	@AfterAll
	static void stopRedis() {
		if (redis != null) {
			redis.close();
		}
	}

	// The log levels the properties set outlive the context (see LogLevels).
	@AfterAll
	static void restoreLogLevels() {
		LogLevels.reset("io.github.idempotency", "io.lettuce",
				"org.springframework.kafka.listener.KafkaMessageListenerContainer");
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class OutageApplication {

		@Bean
		OutageListener outageListener() {
			return new OutageListener();
		}

		@Bean
		KafkaDeliveries deliveries() {
			return new KafkaDeliveries();
		}

		@Bean
		DeadLetters deadLetters() {
			return new DeadLetters();
		}

		@Bean
		DefaultErrorHandler errorHandler(KafkaTemplate<?, ?> template) {
			return new DefaultErrorHandler(new DeadLetterPublishingRecoverer(template), new FixedBackOff(0, 0));
		}

		@Bean
		NewTopic paymentsInOutage() {
			return TopicBuilder.name(TOPIC).partitions(1).replicas(1).build();
		}

		@Bean
		NewTopic paymentsInOutageDeadLetters() {
			return TopicBuilder.name(TOPIC + "-dlt").partitions(1).replicas(1).build();
		}

	}

	// Reached through its proxy: state is read through methods.
	static class OutageListener {

		private final Map<String, List<String>> bookings = new ConcurrentHashMap<>();

		@KafkaListener(id = "outage-ledger", topics = TOPIC)
		@Idempotent(key = "#payment")
		public void book(@Payload String amount, @Header(KafkaHeaders.RECEIVED_KEY) String payment) {
			this.bookings.computeIfAbsent(payment, (key) -> new CopyOnWriteArrayList<>()).add(amount);
		}

		List<String> bookings(String payment) {
			return this.bookings.getOrDefault(payment, List.of());
		}

	}

	static class DeadLetters {

		private final List<String> received = new CopyOnWriteArrayList<>();

		@KafkaListener(id = "outage-dead-letters", topics = TOPIC + "-dlt")
		void receive(ConsumerRecord<String, String> record) {
			this.received.add(record.key() + "=" + record.value());
		}

		List<String> received() {
			return this.received;
		}

	}

}
