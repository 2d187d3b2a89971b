package io.github.idempotency.messaging;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.test.RabbitTestServer;
import io.github.idempotency.test.RedisProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessagePostProcessor;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.amqp.rabbit.config.ContainerCustomizer;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.messaging.handler.annotation.Payload;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An idempotent {@code @RabbitListener} whose Redis is killed under it, on a queue with a
 * dead-letter queue: a message that arrives while the store cannot be reached is neither
 * processed unprotected nor dropped nor dead-lettered; it is requeued, and processed once
 * the store is back.
 */
@SpringBootTest(classes = RabbitStoreOutageTests.OutageApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE,
		properties = { "idempotency.key-prefix=rabbit-outage-test", "idempotency.store-unavailable-retry-after=200ms",
				"spring.data.redis.timeout=500ms", "spring.liquibase.enabled=false",
				"logging.level.io.github.idempotency=off", "logging.level.io.lettuce=off",
				"logging.level.org.springframework.amqp.rabbit.listener=off" })
@DirtiesContext
class RabbitStoreOutageTests {

	// A queue of its own per run: the broker outlives the tests.
	static final String QUEUE = "idempotency-test-outage-" + UUID.randomUUID();

	static final String DEAD_LETTERS = QUEUE + ".dead-letters";

	private static RedisProcess redis;

	@Autowired
	RabbitTemplate rabbit;

	@Autowired
	OutageListener listener;

	@Autowired
	Deliveries deliveries;

	@Test
	void messageArrivingWhileTheStoreIsDownShouldBeRequeuedAndProcessedOnceWhenItIsBack() throws IOException {
		String before = "payment-" + UUID.randomUUID();
		send(before, "10");
		await().atMost(Duration.ofSeconds(30)).until(() -> this.listener.bookings(before).size() == 1);

		redis.kill();
		String during = "payment-" + UUID.randomUUID();
		send(during, "20");
		await().atMost(Duration.ofSeconds(60)).until(() -> this.deliveries.delivered(during) >= 8);
		assertThat(this.listener.bookings(during)).isEmpty();
		assertThat(this.rabbit.receive(DEAD_LETTERS)).isNull();

		redis.start();
		// Lettuce reconnects ever less often while Redis is down, up to every 30 s.
		await().atMost(Duration.ofSeconds(60)).until(() -> this.listener.bookings(during).size() == 1);
		String after = "payment-" + UUID.randomUUID();
		send(after, "30");
		await().atMost(Duration.ofSeconds(30)).until(() -> this.listener.bookings(after).size() == 1);
		await().atMost(Duration.ofSeconds(30))
			.until(() -> this.rabbit.execute((channel) -> channel.messageCount(QUEUE)) == 0);
		assertThat(this.listener.bookings(during)).containsExactly("20");
		assertThat(this.listener.bookings(before)).containsExactly("10");
		assertThat(this.rabbit.receive(DEAD_LETTERS)).isNull();
	}

	private void send(String payment, String amount) {
		this.rabbit.convertAndSend("", QUEUE, amount, (message) -> {
			message.getMessageProperties().setHeader("payment", payment);
			return message;
		});
	}

	@DynamicPropertySource
	static void servers(DynamicPropertyRegistry registry) {
		redis = RedisProcess.launchOrSkip();
		registry.add("spring.data.redis.url", redis::url);
		registry.add("spring.rabbitmq.addresses", RabbitTestServer::address);
		registry.add("test.outage-queue", () -> QUEUE);
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
		LogLevels.reset("io.github.idempotency", "io.lettuce", "org.springframework.amqp.rabbit.listener");
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class OutageApplication {

		@Bean
		OutageListener outageListener() {
			return new OutageListener();
		}

		@Bean
		Deliveries deliveries() {
			return new Deliveries();
		}

		@Bean
		ContainerCustomizer<SimpleMessageListenerContainer> countDeliveries(Deliveries deliveries) {
			return (container) -> container.setAfterReceivePostProcessors(deliveries);
		}

		// The broker deletes the queues once unused for ten minutes.
		@Bean
		Queue outagePayments() {
			return QueueBuilder.nonDurable(QUEUE)
				.expires(600_000)
				.deadLetterExchange("")
				.deadLetterRoutingKey(DEAD_LETTERS)
				.build();
		}

		@Bean
		Queue outageDeadLetters() {
			return QueueBuilder.nonDurable(DEAD_LETTERS).expires(600_000).build();
		}

	}

	// Reached through its proxy: state is read through methods.
	static class OutageListener {

		private final Map<String, List<String>> bookings = new ConcurrentHashMap<>();

		@RabbitListener(id = "outage-ledger", queues = "${test.outage-queue}")
		@Idempotent(key = "#payment")
		public void book(@Payload String amount, @Header("payment") String payment) {
			this.bookings.computeIfAbsent(payment, (key) -> new CopyOnWriteArrayList<>()).add(amount);
		}

		List<String> bookings(String payment) {
			return this.bookings.getOrDefault(payment, List.of());
		}

	}

	/**
	 * Counts each payment's deliveries.
	 */
	static class Deliveries implements MessagePostProcessor {

		private final Map<String, AtomicInteger> delivered = new ConcurrentHashMap<>();

		@Override
		public Message postProcessMessage(Message message) {
			String payment = message.getMessageProperties().getHeader("payment");
			this.delivered.computeIfAbsent(payment, (key) -> new AtomicInteger()).incrementAndGet();
			return message;
		}

		int delivered(String payment) {
			AtomicInteger count = this.delivered.get(payment);
			return (count != null) ? count.get() : 0;
		}

	}

}
