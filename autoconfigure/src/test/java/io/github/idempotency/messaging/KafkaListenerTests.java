package io.github.idempotency.messaging;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.IdempotencyKeyReusedException;
import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.UnreadableRecordException;
import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.test.KafkaTestBroker;
import io.github.idempotency.test.RedisTestServer;
import io.github.idempotency.test.ThreadTransactionManager;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.AbstractMessageListenerContainer;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.CommonLoggingErrorHandler;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.RecordInterceptor;
import org.springframework.kafka.support.KafkaHeaders;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.messaging.handler.annotation.Payload;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.util.backoff.FixedBackOff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An idempotent {@code @KafkaListener} on a real broker (KRaft, in the test JVM), with
 * records kept in Redis: each payment is booked once however often, and by however many
 * consumers, its record is delivered. Two consumers share the topic's one partition, so
 * that a consumer that stops polling hands the partition, and its uncommitted records, to
 * the other.
 */
@SpringBootTest(classes = KafkaListenerTests.LedgerApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE,
		properties = { "idempotency.key-prefix=kafka-test", "idempotency.in-progress-retry-after=200ms",
				"spring.kafka.consumer.auto-offset-reset=earliest", "spring.kafka.listener.poll-timeout=500ms",
				// A consumer busy for longer than this leaves the group, and the other
				// consumer takes its partition over.
				"spring.kafka.consumer.properties[max.poll.interval.ms]=3000", "spring.liquibase.enabled=false",
				"logging.level.org.apache.kafka=warn", "logging.level.kafka=warn",
				"logging.level.state.change.logger=warn" })
class KafkaListenerTests {

	static final String TOPIC = "payments";

	static final String BATCH_TOPIC = "payments-batch";

	static final String TRANSACTIONAL_BATCH_TOPIC = "payments-batch-transactional";

	static final String LOGGED_TOPIC = "payments-logged";

	static final String EVENT_TOPIC = "payment-events";

	static final String ASYNC_TOPIC = "payments-async";

	static final String SETTLEMENT_TOPIC = "settlements";

	// How long a consumer stays busy in the takeover tests: longer than the poll
	// interval, so that the other consumer takes over meanwhile.
	static final Duration BUSY = Duration.ofSeconds(7);

	static final Duration PATIENCE = Duration.ofSeconds(30);

	@Autowired
	KafkaTemplate<String, String> kafka;

	@Autowired
	Ledger ledger;

	@Autowired
	Deliveries deliveries;

	@Autowired
	DeadLetters deadLetters;

	@Autowired
	BatchListener batchListener;

	@Autowired
	TransactionalBatchListener transactionalBatchListener;

	@Autowired
	KafkaListenerEndpointRegistry listeners;

	@Autowired
	StringRedisTemplate redis;

	@Autowired
	DefaultErrorHandler errorHandler;

	@Autowired
	PaymentListener paymentListener;

	@Autowired
	BatchBookings bookings;

	@Autowired
	SettlementListener settlements;

	@Test
	void sameRecordDeliveredTwiceShouldBeBookedOnce() {
		String payment = newPayment();
		send(payment, "100");
		send(payment, "100");
		await().atMost(PATIENCE).until(() -> this.deliveries.processed(payment) >= 2);
		assertThat(this.ledger.bookings(payment)).containsExactly("100");
	}

	// The module's virtual-threads run: Spring Boot gives the container virtual threads.
	@Test
	@EnabledIfSystemProperty(named = "idempotency.test.threads", matches = "virtual")
	void sameRecordDeliveredTwiceToAVirtualThreadShouldBeBookedOnce() {
		String payment = newPayment();
		send(payment, "100");
		send(payment, "100");
		await().atMost(PATIENCE).until(() -> this.deliveries.processed(payment) >= 2);
		assertThat(this.ledger.bookings(payment)).containsExactly("100");
		assertThat(this.ledger.thread(payment)).startsWith("VirtualThread");
	}

	@Test
	void failureShouldReleaseTheKeySoThatTheRedeliveryBooks() {
		String payment = newPayment();
		send(payment, "fail-once");
		// The application's handler does not retry: the failed record is dead-lettered.
		await().atMost(PATIENCE).until(() -> this.deadLetters.received().contains(payment + "=fail-once"));
		assertThat(this.ledger.bookings(payment)).isEmpty();
		send(payment, "fail-once");
		await().atMost(PATIENCE).until(() -> this.ledger.bookings(payment).size() == 1);
		send(payment, "fail-once");
		await().atMost(PATIENCE).until(() -> this.deliveries.processed(payment) >= 2);
		assertThat(this.ledger.bookings(payment)).containsExactly("fail-once");
	}

	@Test
	void recordTheStoreCannotReadShouldBeDeadLetteredNotRetriedForever() {
		String payment = newPayment();
		send(payment, "100");
		await().atMost(PATIENCE).until(() -> this.ledger.bookings(payment).size() == 1);
		String recordKey = Hashing.recordKey(
				"kafka group ledger " + PaymentListener.class.getName() + "#book(java.lang.String,java.lang.String)",
				payment);
		this.redis.opsForValue().set("kafka-test:{" + recordKey + "}", "not a record");
		send(payment, "100");
		await().atMost(PATIENCE).until(() -> this.deadLetters.received().contains(payment + "=100"));
		assertThat(this.deliveries.failures(payment)).containsExactly(UnreadableRecordException.class);
		assertThat(this.ledger.bookings(payment)).containsExactly("100");
		assertNextRecordIsBooked();
	}

	@Test
	void keyReusedWithAnotherPayloadShouldBeDeadLetteredAtOnce() {
		String payment = newPayment();
		send(payment, "100");
		send(payment, "999");
		await().atMost(PATIENCE).until(() -> this.deadLetters.received().contains(payment + "=999"));
		assertThat(this.ledger.bookings(payment)).containsExactly("100");
		assertThat(this.deliveries.failures(payment)).containsExactly(IdempotencyKeyReusedException.class);
	}

	@Test
	void duplicateOfARecordStillBeingProcessedShouldBeRetriedUntilItCanBeReplayed() {
		String payment = newPayment();
		send(payment, "slow");
		// The first consumer is still booking when the second takes the partition over
		// and gets the record again: it is told to wait, and retried, not dropped.
		await().atMost(PATIENCE)
			.until(() -> this.deliveries.failures(payment).contains(IdempotentCallInProgressException.class));
		await().atMost(PATIENCE).until(() -> this.deliveries.processed(payment) >= 2);
		assertThat(this.ledger.bookings(payment)).containsExactly("slow");
		assertThat(this.deadLetters.received()).noneMatch((received) -> received.startsWith(payment));
		assertNextRecordIsBooked();
	}

	// A listener that returns a future frees its consumer at once, so a copy fetched in
	// the same poll finds the first still running. Its refusal is thrown rather than
	// handed over in a failed future, which Spring Kafka would acknowledge, and retried
	// in memory: a seek would leave the partition unfetched until every record of the
	// poll was acknowledged, which the refused one never would be.
	@Test
	void duplicateOfARecordAnAsyncListenerIsStillProcessingShouldBeRetriedUntilItCanBeReplayed() {
		String payment = newPayment();
		// Sent before the listener starts, so that its first poll returns both.
		sendLater(payment, "slow");
		sendLater(payment, "slow");
		this.listeners.getListenerContainer("async-ledger").start();
		await().atMost(PATIENCE)
			.until(() -> this.deliveries.failures(payment).contains(IdempotentCallInProgressException.class));
		await().atMost(PATIENCE).until(() -> this.ledger.bookings(payment).size() == 1);
		await().atMost(PATIENCE).until(() -> this.deliveries.processed(payment) >= 2);
		assertThat(this.ledger.bookings(payment)).containsExactly("slow");
		String next = newPayment();
		sendLater(next, "100");
		await().atMost(PATIENCE).until(() -> this.ledger.bookings(next).size() == 1);
	}

	// The work behind an async listener's future meets the duplicate of an idempotent
	// call inside it: Spring Kafka would acknowledge the record of the failed future and
	// drop it. The listener is called again instead, until the call inside replays.
	@Test
	void asyncListenerWhoseWorkMetADuplicateInProgressInsideShouldBeCalledAgainUntilItSettles() {
		String payment = newPayment();
		String order = newPayment();
		this.ledger.hold(payment);
		CompletableFuture<Void> first = CompletableFuture.runAsync(() -> this.bookings.book(payment, "100"));
		await().atMost(PATIENCE).until(() -> this.ledger.started(payment));
		this.kafka.send(SETTLEMENT_TOPIC, order, payment).join();
		await().atMost(PATIENCE).until(() -> this.settlements.attempts(order) >= 2);
		this.ledger.release(payment);
		first.join();
		await().atMost(PATIENCE).until(() -> this.settlements.settled(order));
		assertThat(this.ledger.bookings(payment)).containsExactly("100");
		// Acknowledged, and the partition fetched again.
		String next = newPayment();
		this.kafka.send(SETTLEMENT_TOPIC, next, newPayment()).join();
		await().atMost(PATIENCE).until(() -> this.settlements.settled(next));
	}

	@Test
	void recordProcessedByAConsumerThatStoppedBeforeCommittingShouldNotBeBookedAgainByTheNext() {
		String payment = newPayment();
		send(payment, "stall-before-commit");
		await().atMost(PATIENCE).until(() -> this.deliveries.delivered(payment) >= 2);
		await().atMost(PATIENCE).until(() -> this.deliveries.processed(payment) >= 2);
		assertThat(this.ledger.bookings(payment)).containsExactly("stall-before-commit");
		assertNextRecordIsBooked();
	}

	@Test
	void batchShouldCommitTheRecordsBeforeOneThatFailedAndProcessTheRestOnce() {
		String first = newPayment();
		String failing = newPayment();
		String last = newPayment();
		// Sent before the listener starts, so that its first poll returns all three.
		this.kafka.send(BATCH_TOPIC, first, "100");
		this.kafka.send(BATCH_TOPIC, failing, "fail-once");
		this.kafka.send(BATCH_TOPIC, last, "100").join();
		this.listeners.getListenerContainer("batch-ledger").start();
		await().atMost(PATIENCE).until(() -> this.ledger.bookings(last).size() == 1);
		assertThat(this.ledger.bookings(first)).containsExactly("100");
		assertThat(this.ledger.bookings(failing)).containsExactly("fail-once");
		// The first record was committed when the second failed: it was not delivered
		// again, let alone booked.
		assertThat(this.batchListener.seen(first)).isOne();
		assertThat(this.batchListener.seen(failing)).isEqualTo(2);
		assertThat(this.batchListener.seen(last)).isOne();
	}

	// The failure rolls back the records before it too: committing them, as the container
	// does for a batch listener that names the record that failed, would lose them.
	@Test
	void batchInTheListenersTransactionShouldBeRetriedWholeWhenARecordFails() {
		String first = newPayment();
		String failing = newPayment();
		String last = newPayment();
		this.kafka.send(TRANSACTIONAL_BATCH_TOPIC, first, "100");
		this.kafka.send(TRANSACTIONAL_BATCH_TOPIC, failing, "fail-once");
		this.kafka.send(TRANSACTIONAL_BATCH_TOPIC, last, "100").join();
		this.listeners.getListenerContainer("transactional-batch-ledger").start();
		await().atMost(PATIENCE).until(() -> this.ledger.bookings(last).size() == 1);
		assertThat(this.ledger.bookings(first)).containsExactly("100");
		assertThat(this.ledger.bookings(failing)).containsExactly("fail-once");
		// Run again after the rollback released its key.
		assertThat(this.transactionalBatchListener.seen(first)).isEqualTo(2);
		assertThat(this.transactionalBatchListener.seen(last)).isOne();
	}

	@Test
	void duplicateInProgressShouldBeRetriedEvenWhereTheHandlerOnlyLogsFailures() {
		String payment = newPayment();
		// The same call the listener makes, from elsewhere, holding the key meanwhile.
		CompletableFuture<Void> first = CompletableFuture
			.runAsync(() -> this.paymentListener.bookLogged("slow", payment));
		await().atMost(PATIENCE).until(() -> this.ledger.started(payment));
		this.kafka.send(LOGGED_TOPIC, payment, "slow").join();
		await().atMost(PATIENCE)
			.until(() -> this.deliveries.failures(payment).contains(IdempotentCallInProgressException.class));
		// A handler that logs and moves on would have skipped it: it replays instead.
		await().atMost(PATIENCE).until(() -> this.deliveries.processed(payment) == 1);
		first.join();
		assertThat(this.ledger.bookings(payment)).containsExactly("slow");
	}

	@Test
	void everyContainerShouldHandleRefusalsAroundTheHandlerItWasGiven() {
		assertThat(List.of("ledger", "batch-ledger", "dead-letters"))
			.map((id) -> ((AbstractMessageListenerContainer<?, ?>) this.listeners.getListenerContainer(id))
				.getCommonErrorHandler())
			.allSatisfy((handler) -> assertThat(handler).isInstanceOf(IdempotentKafkaErrorHandler.class));
		// The consumers of a running container were given its handler when it started.
		assertThat(((ConcurrentMessageListenerContainer<?, ?>) this.listeners.getListenerContainer("ledger"))
			.getContainers()).hasSize(2)
			.allSatisfy((consumer) -> assertThat(consumer.getCommonErrorHandler())
				.isInstanceOf(IdempotentKafkaErrorHandler.class));
		assertThat(((IdempotentKafkaErrorHandler) ((AbstractMessageListenerContainer<?, ?>) this.listeners
			.getListenerContainer("batch-ledger")).getCommonErrorHandler()).getApplicationHandler())
			.isInstanceOf(DefaultErrorHandler.class)
			.isNotSameAs(this.errorHandler);
	}

	// The key in a header, whose value Kafka hands over as bytes, a new array for each
	// delivery: two records of one event are one booking.
	@Test
	void recordsOfOneEventKeyedByAHeaderInBytesShouldBeBookedOnce() {
		String event = newPayment();
		String next = newPayment();
		sendEvent(event, "100");
		sendEvent(event, "100");
		sendEvent(next, "200");
		await().atMost(PATIENCE).until(() -> this.ledger.bookings(next).size() == 1);
		assertThat(this.ledger.bookings(event)).containsExactly("100");
	}

	private void sendEvent(String event, String amount) {
		ProducerRecord<String, String> record = new ProducerRecord<>(EVENT_TOPIC, event, amount);
		record.headers().add("eventId", event.getBytes(StandardCharsets.UTF_8));
		this.kafka.send(record).join();
	}

	private void assertNextRecordIsBooked() {
		String next = newPayment();
		send(next, "100");
		await().atMost(PATIENCE).until(() -> this.ledger.bookings(next).size() == 1);
	}

	private void send(String payment, String amount) {
		this.kafka.send(TOPIC, payment, amount).join();
	}

	private void sendLater(String payment, String amount) {
		this.kafka.send(ASYNC_TOPIC, payment, amount).join();
	}

	private static String newPayment() {
		return "payment-" + UUID.randomUUID();
	}

	@DynamicPropertySource
	static void servers(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
		registry.add("spring.kafka.bootstrap-servers", KafkaTestBroker::bootstrapServers);
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class LedgerApplication {

		@Bean
		Ledger ledger() {
			return new Ledger();
		}

		@Bean
		PaymentListener paymentListener(Ledger ledger) {
			return new PaymentListener(ledger);
		}

		@Bean
		BatchBookings batchBookings(Ledger ledger) {
			return new BatchBookings(ledger);
		}

		@Bean
		BatchListener batchListener(BatchBookings bookings) {
			return new BatchListener(bookings);
		}

		@Bean
		TransactionalBatchListener transactionalBatchListener(BatchBookings bookings) {
			return new TransactionalBatchListener(bookings);
		}

		@Bean
		PlatformTransactionManager transactionManager() {
			return new ThreadTransactionManager();
		}

		@Bean
		NewTopic transactionalBatchPayments() {
			return TopicBuilder.name(TRANSACTIONAL_BATCH_TOPIC).partitions(1).replicas(1).build();
		}

		@Bean
		SettlementListener settlementListener(BatchBookings bookings) {
			return new SettlementListener(bookings);
		}

		@Bean
		NewTopic settlements() {
			return TopicBuilder.name(SETTLEMENT_TOPIC).partitions(1).replicas(1).build();
		}

		// A container whose handler logs a failure and moves on to the next record,
		// retrying nothing; it retries in place rather than seeking.
		@Bean
		ConcurrentKafkaListenerContainerFactory<Object, Object> loggingContainerFactory(
				ConsumerFactory<Object, Object> consumerFactory, Deliveries deliveries) {
			ConcurrentKafkaListenerContainerFactory<Object, Object> factory = containerFactory(consumerFactory,
					new CommonLoggingErrorHandler());
			factory.setRecordInterceptor(deliveries);
			return factory;
		}

		@Bean
		NewTopic loggedPayments() {
			return TopicBuilder.name(LOGGED_TOPIC).partitions(1).replicas(1).build();
		}

		// The batch listener's container retries failures, as Spring Kafka does by
		// default.
		@Bean
		ConcurrentKafkaListenerContainerFactory<Object, Object> batchContainerFactory(
				ConsumerFactory<Object, Object> consumerFactory) {
			return containerFactory(consumerFactory, new DefaultErrorHandler());
		}

		private static ConcurrentKafkaListenerContainerFactory<Object, Object> containerFactory(
				ConsumerFactory<Object, Object> consumerFactory, CommonErrorHandler handler) {
			ConcurrentKafkaListenerContainerFactory<Object, Object> factory = new ConcurrentKafkaListenerContainerFactory<>();
			factory.setConsumerFactory(consumerFactory);
			factory.setCommonErrorHandler(handler);
			return factory;
		}

		@Bean
		NewTopic batchPayments() {
			return TopicBuilder.name(BATCH_TOPIC).partitions(1).replicas(1).build();
		}

		@Bean
		Deliveries deliveries() {
			return new Deliveries();
		}

		@Bean
		DeadLetters deadLetters() {
			return new DeadLetters();
		}

		@Bean
		NewTopic paymentEvents() {
			return TopicBuilder.name(EVENT_TOPIC).partitions(1).replicas(1).build();
		}

		@Bean
		NewTopic laterPayments() {
			return TopicBuilder.name(ASYNC_TOPIC).partitions(1).replicas(1).build();
		}

		@Bean
		NewTopic payments() {
			return TopicBuilder.name(TOPIC).partitions(1).replicas(1).build();
		}

		@Bean
		NewTopic deadLetterTopic() {
			return TopicBuilder.name(TOPIC + "-dlt").partitions(1).replicas(1).build();
		}

		// The application's own error handler, as many have one for their dead-letter
		// topic, which does not retry at all: a record whose duplicate is in progress is
		// retried all the same, and one whose key was reused is dead-lettered.
		@Bean
		DefaultErrorHandler errorHandler(KafkaTemplate<?, ?> template) {
			return new DefaultErrorHandler(new DeadLetterPublishingRecoverer(template), new FixedBackOff(0, 0));
		}

	}

	static class PaymentListener {

		private final Ledger ledger;

		private final Executor executor = Executors.newCachedThreadPool();

		PaymentListener(Ledger ledger) {
			this.ledger = ledger;
		}

		@KafkaListener(id = "ledger", topics = TOPIC, concurrency = "2")
		@Idempotent(key = "#payment")
		public void book(@Payload String amount, @Header(KafkaHeaders.RECEIVED_KEY) String payment) {
			this.ledger.book(payment, amount);
		}

		@KafkaListener(id = "event-ledger", topics = EVENT_TOPIC)
		@Idempotent(key = "#eventId")
		public void bookEvent(@Payload String amount, @Header("eventId") byte[] eventId) {
			this.ledger.book(new String(eventId, StandardCharsets.UTF_8), amount);
		}

		@KafkaListener(id = "logged-ledger", topics = LOGGED_TOPIC, containerFactory = "loggingContainerFactory")
		@Idempotent(key = "#payment")
		public void bookLogged(@Payload String amount, @Header(KafkaHeaders.RECEIVED_KEY) String payment) {
			this.ledger.book(payment, amount);
		}

		// Books on another thread and returns at once: Spring Kafka acknowledges the
		// record when the future completes.
		@KafkaListener(id = "async-ledger", topics = ASYNC_TOPIC, autoStartup = "false")
		@Idempotent(key = "#payment")
		public CompletableFuture<Void> bookLater(@Payload String amount,
				@Header(KafkaHeaders.RECEIVED_KEY) String payment) {
			return CompletableFuture.runAsync(() -> this.ledger.book(payment, amount), this.executor);
		}

	}

	/**
	 * A batch listener that books each record of its batch through an idempotent method.
	 */
	static class BatchListener {

		private final BatchBookings bookings;

		private final Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();

		BatchListener(BatchBookings bookings) {
			this.bookings = bookings;
		}

		@KafkaListener(id = "batch-ledger", topics = BATCH_TOPIC, batch = "true", autoStartup = "false",
				containerFactory = "batchContainerFactory")
		void bookAll(List<ConsumerRecord<String, String>> records) {
			KafkaBatch.forEachRecord(records, (record) -> {
				this.seen.computeIfAbsent(record.key(), (key) -> new AtomicInteger()).incrementAndGet();
				this.bookings.book(record.key(), record.value());
			});
		}

		int seen(String payment) {
			AtomicInteger count = this.seen.get(payment);
			return (count != null) ? count.get() : 0;
		}

	}

	/**
	 * A batch listener that books each record of its batch through an idempotent method,
	 * all in one transaction.
	 */
	static class TransactionalBatchListener {

		private final BatchBookings bookings;

		private final Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();

		TransactionalBatchListener(BatchBookings bookings) {
			this.bookings = bookings;
		}

		@KafkaListener(id = "transactional-batch-ledger", topics = TRANSACTIONAL_BATCH_TOPIC, batch = "true",
				autoStartup = "false", containerFactory = "batchContainerFactory")
		@Transactional
		public void bookAll(List<ConsumerRecord<String, String>> records) {
			KafkaBatch.forEachRecord(records, (record) -> {
				this.seen.computeIfAbsent(record.key(), (key) -> new AtomicInteger()).incrementAndGet();
				this.bookings.bookOnCommit(record.key(), record.value());
			});
		}

		public int seen(String payment) {
			AtomicInteger count = this.seen.get(payment);
			return (count != null) ? count.get() : 0;
		}

	}

	/**
	 * Settles an order on another thread, booking its payment through an idempotent call
	 * inside.
	 */
	static class SettlementListener {

		private final BatchBookings bookings;

		private final Executor executor = Executors.newCachedThreadPool();

		private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();

		private final Set<String> settled = ConcurrentHashMap.newKeySet();

		SettlementListener(BatchBookings bookings) {
			this.bookings = bookings;
		}

		@KafkaListener(id = "settlements", topics = SETTLEMENT_TOPIC)
		@Idempotent(key = "#order")
		public CompletableFuture<Void> settle(@Payload String payment,
				@Header(KafkaHeaders.RECEIVED_KEY) String order) {
			return CompletableFuture.runAsync(() -> {
				this.attempts.computeIfAbsent(order, (key) -> new AtomicInteger()).incrementAndGet();
				this.bookings.book(payment, "100");
				this.settled.add(order);
			}, this.executor);
		}

		int attempts(String order) {
			AtomicInteger count = this.attempts.get(order);
			return (count != null) ? count.get() : 0;
		}

		boolean settled(String order) {
			return this.settled.contains(order);
		}

	}

	static class BatchBookings {

		private final Ledger ledger;

		BatchBookings(Ledger ledger) {
			this.ledger = ledger;
		}

		@Idempotent(key = "#payment")
		public void book(String payment, String amount) {
			this.ledger.book(payment, amount);
		}

		@Idempotent(key = "#payment")
		public void bookOnCommit(String payment, String amount) {
			this.ledger.bookOnCommit(payment, amount);
		}

	}

	static class Ledger {

		private final Map<String, List<String>> bookings = new ConcurrentHashMap<>();

		private final Set<String> failed = ConcurrentHashMap.newKeySet();

		private final Set<String> started = ConcurrentHashMap.newKeySet();

		private final Map<String, String> threads = new ConcurrentHashMap<>();

		private final Map<String, CountDownLatch> holds = new ConcurrentHashMap<>();

		void book(String payment, String amount) {
			this.started.add(payment);
			CountDownLatch hold = this.holds.get(payment);
			if (hold != null) {
				try {
					hold.await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			}
			this.threads.put(payment, Thread.currentThread().toString());
			if (amount.equals("fail-once") && this.failed.add(payment)) {
				throw new IllegalStateException("The ledger is busy");
			}
			if (amount.equals("slow")) {
				sleep(BUSY);
			}
			this.bookings.computeIfAbsent(payment, (key) -> new CopyOnWriteArrayList<>()).add(amount);
		}

		// Fails before the transaction could commit, or books when it does.
		void bookOnCommit(String payment, String amount) {
			if (amount.equals("fail-once") && this.failed.add(payment)) {
				throw new IllegalStateException("The ledger is busy");
			}
			TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {

				@Override
				public void afterCommit() {
					book(payment, amount);
				}

			});
		}

		List<String> bookings(String payment) {
			return this.bookings.getOrDefault(payment, List.of());
		}

		/**
		 * Holds bookings of the payment until {@link #release}.
		 */
		void hold(String payment) {
			this.holds.put(payment, new CountDownLatch(1));
		}

		void release(String payment) {
			this.holds.get(payment).countDown();
		}

		boolean started(String payment) {
			return this.started.contains(payment);
		}

		String thread(String payment) {
			return this.threads.get(payment);
		}

	}

	/**
	 * Counts what the container of the payments topic does with each record: deliveries,
	 * and their ends. Stalls the consumer that processed a record asking for it, after
	 * processing and before its offset is committed, as a consumer that died there would.
	 */
	static class Deliveries implements RecordInterceptor<Object, Object> {

		private final Map<Object, AtomicInteger> delivered = new ConcurrentHashMap<>();

		private final Map<Object, AtomicInteger> processed = new ConcurrentHashMap<>();

		private final Map<Object, List<Class<?>>> failures = new ConcurrentHashMap<>();

		private final Set<Object> stalled = ConcurrentHashMap.newKeySet();

		@Override
		public @Nullable ConsumerRecord<Object, Object> intercept(ConsumerRecord<Object, Object> record,
				Consumer<Object, Object> consumer) {
			if (!record.topic().endsWith("-dlt")) {
				this.delivered.computeIfAbsent(record.key(), (key) -> new AtomicInteger()).incrementAndGet();
			}
			return record;
		}

		@Override
		public void success(ConsumerRecord<Object, Object> record, Consumer<Object, Object> consumer) {
			if (record.topic().endsWith("-dlt")) {
				return;
			}
			this.processed.computeIfAbsent(record.key(), (key) -> new AtomicInteger()).incrementAndGet();
			if ("stall-before-commit".equals(record.value()) && this.stalled.add(record.key())) {
				sleep(BUSY);
			}
		}

		@Override
		public void failure(ConsumerRecord<Object, Object> record, Exception exception,
				Consumer<Object, Object> consumer) {
			Throwable cause = exception;
			while (cause.getCause() != null && !(cause instanceof io.github.idempotency.IdempotencyException)
					&& !(cause instanceof IllegalStateException)) {
				cause = cause.getCause();
			}
			this.failures.computeIfAbsent(record.key(), (key) -> new CopyOnWriteArrayList<>()).add(cause.getClass());
		}

		int delivered(String payment) {
			AtomicInteger count = this.delivered.get(payment);
			return (count != null) ? count.get() : 0;
		}

		int processed(String payment) {
			AtomicInteger count = this.processed.get(payment);
			return (count != null) ? count.get() : 0;
		}

		List<Class<?>> failures(String payment) {
			return this.failures.getOrDefault(payment, List.of());
		}

	}

	static class DeadLetters {

		private final List<String> received = new CopyOnWriteArrayList<>();

		@KafkaListener(id = "dead-letters", topics = TOPIC + "-dlt")
		void receive(ConsumerRecord<String, String> record) {
			this.received.add(record.key() + "=" + record.value());
		}

		List<String> received() {
			return this.received;
		}

	}

	static void sleep(Duration duration) {
		try {
			Thread.sleep(duration.toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
