package io.github.idempotency.messaging;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.test.KafkaTestBroker;
import io.github.idempotency.test.RedisProcess;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
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
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.AbstractMessageListenerContainer;
import org.springframework.kafka.listener.AfterRollbackProcessor;
import org.springframework.kafka.listener.DefaultAfterRollbackProcessor;
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
 * An idempotent listener in a transactional container (Kafka transactions, as Spring Boot
 * sets them up from {@code spring.kafka.producer.transaction-id-prefix}): after the
 * rollback of a record whose duplicate is still being processed, the container's
 * after-rollback processor decides, and the application's skips the record, or the batch,
 * after three attempts (Spring Kafka's default skips a record after ten), and the
 * application's error handler, which runs first in the transaction, would skip a record
 * at once. The record must wait instead, and be replayed; so must a record that arrives
 * while the store cannot be reached (the test's own Redis, killed).
 */
@SpringBootTest(classes = KafkaTransactionalListenerTests.LedgerApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE,
		properties = { "idempotency.key-prefix=kafka-tx-test", "idempotency.in-progress-retry-after=100ms",
				"idempotency.store-unavailable-retry-after=200ms", "spring.data.redis.timeout=500ms",
				"spring.kafka.producer.transaction-id-prefix=idempotency-test-tx-",
				"spring.kafka.consumer.auto-offset-reset=earliest", "spring.kafka.listener.poll-timeout=500ms",
				"spring.liquibase.enabled=false", "logging.level.org.apache.kafka=warn", "logging.level.kafka=warn",
				"logging.level.state.change.logger=warn",
				"logging.level.org.springframework.kafka.listener.KafkaMessageListenerContainer=off" })
class KafkaTransactionalListenerTests {

	static final String TOPIC = "payments-in-transactions";

	static final String BATCH_TOPIC = "payment-batches-in-transactions";

	private static RedisProcess redis;

	@Autowired
	KafkaTemplate<String, String> kafka;

	@Autowired
	PaymentListener listener;

	@Autowired
	KafkaDeliveries deliveries;

	@Autowired
	KafkaListenerEndpointRegistry listeners;

	@Autowired
	BatchListener batchListener;

	@Autowired
	BatchBookings batchBookings;

	@Test
	void containerShouldBeTransactionalAndWrapped() {
		AbstractMessageListenerContainer<?, ?> container = (AbstractMessageListenerContainer<?, ?>) this.listeners
			.getListenerContainer("transactional-ledger");
		assertThat(container.getContainerProperties().getKafkaAwareTransactionManager()).isNotNull();
		assertThat(container.getAfterRollbackProcessor()).isInstanceOf(IdempotentKafkaAfterRollbackProcessor.class);
		assertThat(container.getCommonErrorHandler()).isInstanceOf(IdempotentKafkaErrorHandler.class);
	}

	// Held by a call of the listener method itself, in progress for longer than the
	// application's processor's three quick attempts take (or Spring Kafka's
	// default's ten).
	@Test
	void recordWhoseDuplicateIsInProgressShouldWaitAndBeReplayedNotSkipped() throws Exception {
		String payment = "payment-" + UUID.randomUUID();
		CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> this.listener.book("hold", payment));
		assertThat(this.listener.awaitHolding()).isTrue();
		this.kafka.executeInTransaction((template) -> template.send(TOPIC, payment, "hold"));
		await().atMost(Duration.ofSeconds(30)).until(() -> this.deliveries.failures(payment) >= 15);
		assertThat(this.deliveries.processed(payment)).isZero();

		this.listener.release();
		holder.get(10, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(30)).until(() -> this.deliveries.processed(payment) == 1);
		assertThat(this.listener.bookings(payment)).containsExactly("hold");

		assertNextRecordIsBooked("10");
	}

	// The batch is rolled back at the record whose duplicate is in progress, and
	// delivered again whole until that duplicate has ended: the record before it replays,
	// and none is skipped or booked twice.
	@Test
	void batchWithARecordWhoseDuplicateIsInProgressShouldWaitAndBookEachRecordOnce() throws Exception {
		String first = "payment-" + UUID.randomUUID();
		String held = "payment-" + UUID.randomUUID();
		String last = "payment-" + UUID.randomUUID();
		CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> this.batchBookings.book(held, "hold"));
		assertThat(this.batchBookings.awaitHolding()).isTrue();
		this.kafka.executeInTransaction((template) -> {
			template.send(BATCH_TOPIC, first, "10");
			template.send(BATCH_TOPIC, held, "hold");
			return template.send(BATCH_TOPIC, last, "30");
		});
		this.listeners.getListenerContainer("transactional-batches").start();
		await().atMost(Duration.ofSeconds(30)).until(() -> this.batchListener.seen(held) >= 5);
		assertThat(this.batchBookings.bookings(last)).isEmpty();

		this.batchBookings.release();
		holder.get(10, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(30)).until(() -> this.batchListener.answered(held));
		await().atMost(Duration.ofSeconds(30)).until(() -> this.batchBookings.bookings(last).size() == 1);
		assertThat(this.batchBookings.bookings(first)).containsExactly("10");
		assertThat(this.batchBookings.bookings(held)).containsExactly("hold");
		assertThat(this.batchBookings.bookings(last)).containsExactly("30");
	}

	@Test
	void recordArrivingWhileTheStoreIsDownShouldWaitAndBeProcessedOnceWhenItIsBack() throws IOException {
		redis.kill();
		String payment = "payment-" + UUID.randomUUID();
		this.kafka.executeInTransaction((template) -> template.send(TOPIC, payment, "20"));
		await().atMost(Duration.ofSeconds(60)).until(() -> this.deliveries.failures(payment) >= 12);
		assertThat(this.deliveries.processed(payment)).isZero();

		redis.start();
		await().atMost(Duration.ofSeconds(60)).until(() -> this.deliveries.processed(payment) == 1);
		assertThat(this.listener.bookings(payment)).containsExactly("20");
		assertNextRecordIsBooked("30");
	}

	private void assertNextRecordIsBooked(String amount) {
		String next = "payment-" + UUID.randomUUID();
		this.kafka.executeInTransaction((template) -> template.send(TOPIC, next, amount));
		await().atMost(Duration.ofSeconds(30)).until(() -> this.deliveries.processed(next) == 1);
		assertThat(this.listener.bookings(next)).containsExactly(amount);
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
		LogLevels.reset("org.springframework.kafka.listener.KafkaMessageListenerContainer");
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class LedgerApplication {

		// Lettuce would try to reconnect ever less often while Redis is down, up to every
		// 30 s: often, here, so that the record waits for Redis rather than for Lettuce.
		@Bean(destroyMethod = "shutdown")
		ClientResources clientResources() {
			return ClientResources.builder().reconnectDelay(Delay.constant(Duration.ofMillis(100))).build();
		}

		@Bean
		PaymentListener paymentListener() {
			return new PaymentListener();
		}

		@Bean
		KafkaDeliveries deliveries() {
			return new KafkaDeliveries();
		}

		@Bean
		BatchBookings batchBookings() {
			return new BatchBookings();
		}

		@Bean
		BatchListener batchListener(BatchBookings bookings) {
			return new BatchListener(bookings);
		}

		@Bean
		NewTopic paymentBatchesInTransactions() {
			return TopicBuilder.name(BATCH_TOPIC).partitions(1).replicas(1).build();
		}

		// Spring Boot gives it to the transactional container: one that retries nothing,
		// and would skip a record at once if a refusal reached it.
		@Bean
		DefaultErrorHandler errorHandler() {
			return new DefaultErrorHandler(new FixedBackOff(0, 0));
		}

		// Spring Boot gives it to the transactional containers: one that skips a
		// record, or a batch, after three quick attempts and commits its offset, as
		// an application that dead-letters in transactions does. Its default would
		// retry a batch forever.
		@Bean
		AfterRollbackProcessor<Object, Object> afterRollbackProcessor(KafkaTemplate<?, ?> template) {
			return new DefaultAfterRollbackProcessor<>((record, failure) -> {
			}, new FixedBackOff(0, 2), template, true);
		}

		@Bean
		NewTopic paymentsInTransactions() {
			return TopicBuilder.name(TOPIC).partitions(1).replicas(1).build();
		}

	}

	// Reached through its proxy: state is read through methods.
	static class PaymentListener {

		private final CountDownLatch holding = new CountDownLatch(1);

		private final CountDownLatch release = new CountDownLatch(1);

		private final Map<String, List<String>> bookings = new ConcurrentHashMap<>();

		@KafkaListener(id = "transactional-ledger", topics = TOPIC)
		@Idempotent(key = "#payment")
		public void book(@Payload String amount, @Header(KafkaHeaders.RECEIVED_KEY) String payment) {
			if (amount.equals("hold")) {
				this.holding.countDown();
				try {
					this.release.await(60, TimeUnit.SECONDS);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			}
			this.bookings.computeIfAbsent(payment, (key) -> new CopyOnWriteArrayList<>()).add(amount);
		}

		List<String> bookings(String payment) {
			return this.bookings.getOrDefault(payment, List.of());
		}

		boolean awaitHolding() throws InterruptedException {
			return this.holding.await(10, TimeUnit.SECONDS);
		}

		void release() {
			this.release.countDown();
		}

	}

	/**
	 * Books each record of its batch through an idempotent method, in the transactional
	 * container Spring Boot configures.
	 */
	static class BatchListener {

		private final BatchBookings bookings;

		private final Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();

		private final Set<String> answered = ConcurrentHashMap.newKeySet();

		BatchListener(BatchBookings bookings) {
			this.bookings = bookings;
		}

		@KafkaListener(id = "transactional-batches", topics = BATCH_TOPIC, batch = "true", autoStartup = "false")
		void bookAll(List<ConsumerRecord<String, String>> records) {
			KafkaBatch.forEachRecord(records, (record) -> {
				this.seen.computeIfAbsent(record.key(), (key) -> new AtomicInteger()).incrementAndGet();
				this.bookings.book(record.key(), record.value());
				this.answered.add(record.key());
			});
		}

		// Whether a delivery of the record got its booking's answer, run or replayed:
		// one that was skipped never does.
		boolean answered(String payment) {
			return this.answered.contains(payment);
		}

		int seen(String payment) {
			AtomicInteger count = this.seen.get(payment);
			return (count != null) ? count.get() : 0;
		}

	}

	// Reached through its proxy: state is read through methods.
	static class BatchBookings {

		private final CountDownLatch holding = new CountDownLatch(1);

		private final CountDownLatch release = new CountDownLatch(1);

		private final Map<String, List<String>> bookings = new ConcurrentHashMap<>();

		@Idempotent(key = "#payment")
		public void book(String payment, String amount) {
			if (amount.equals("hold")) {
				this.holding.countDown();
				try {
					this.release.await(60, TimeUnit.SECONDS);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			}
			this.bookings.computeIfAbsent(payment, (key) -> new CopyOnWriteArrayList<>()).add(amount);
		}

		public List<String> bookings(String payment) {
			return this.bookings.getOrDefault(payment, List.of());
		}

		public boolean awaitHolding() throws InterruptedException {
			return this.holding.await(10, TimeUnit.SECONDS);
		}

		public void release() {
			this.release.countDown();
		}

	}

}
