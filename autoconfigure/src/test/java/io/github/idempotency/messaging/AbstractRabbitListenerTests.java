package io.github.idempotency.messaging;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import com.rabbitmq.client.Channel;
import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.test.RabbitTestServer;
import io.github.idempotency.test.RedisTestServer;
import org.aopalliance.intercept.MethodInterceptor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.amqp.AmqpRejectAndDontRequeueException;
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
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.messaging.handler.annotation.Payload;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An idempotent {@code @RabbitListener} on a real RabbitMQ broker, with records kept in
 * Redis and two consumers on the payments queue, whose dead-letter queue receives what is
 * rejected without requeue: each payment is booked once however often its message is
 * delivered, and a message is dead-lettered only when its key was reused.
 */
// Each subclass's listeners stop with its tests: they consume from the same queue.
@DirtiesContext
abstract class AbstractRabbitListenerTests {

	// A queue of its own per run: the broker outlives the tests.
	static final String QUEUE = "idempotency-test-payments-" + UUID.randomUUID();

	static final String DEAD_LETTERS = QUEUE + ".dead-letters";

	static final String RECEIPTS = QUEUE + ".receipts";

	// The broker deletes the queues once unused for this long (in milliseconds).
	static final int QUEUE_EXPIRY = 600_000;

	static final Duration BUSY = Duration.ofSeconds(3);

	static final Duration PATIENCE = Duration.ofSeconds(30);

	// An amount that settles the reference after it before the payment is booked.
	static final String SETTLE = "settle:";

	// The same, rejecting the message when the settlement is in progress.
	static final String SETTLE_OR_REJECT = "settle-or-reject:";

	// An amount whose booking answers with a receipt, which is not kept (see Receipt).
	static final String RECEIPT = "receipt";

	@Autowired
	RabbitTemplate rabbit;

	@Autowired
	Ledger ledger;

	@Autowired
	Deliveries deliveries;

	@Autowired
	Settlements settlements;

	@BeforeAll
	static void brokerRuns() {
		RabbitTestServer.address();
	}

	@Test
	void sameMessageDeliveredTwiceShouldBeBookedOnce() {
		String payment = newPayment();
		send(payment, "100");
		send(payment, "100");
		await().atMost(PATIENCE).until(() -> this.deliveries.delivered(payment) >= 2);
		await().atMost(PATIENCE).until(() -> this.ledger.bookings(payment).size() == 1);
		assertNothingDeadLettered();
		assertThat(this.ledger.bookings(payment)).containsExactly("100");
	}

	@Test
	void failureShouldReleaseTheKeySoThatTheNextAttemptBooks() {
		String payment = newPayment();
		send(payment, "fail-once");
		await().atMost(PATIENCE).until(() -> this.ledger.bookings(payment).size() == 1);
		assertThat(this.ledger.attempts(payment)).isEqualTo(2);
		assertNothingDeadLettered();
	}

	@Test
	void keyReusedWithAnotherPayloadShouldBeDeadLettered() {
		String payment = newPayment();
		send(payment, "100");
		await().atMost(PATIENCE).until(() -> this.ledger.bookings(payment).size() == 1);
		send(payment, "999");
		Message deadLetter = this.rabbit.receive(DEAD_LETTERS, PATIENCE.toMillis());
		assertThat(deadLetter).isNotNull();
		assertThat(deadLetter.getMessageProperties().<String>getHeader("payment")).isEqualTo(payment);
		assertThat(new String(deadLetter.getBody())).isEqualTo("999");
		assertThat(this.ledger.bookings(payment)).containsExactly("100");
	}

	// The listener ran and replied, but its receipt could not be kept: its duplicate is
	// not booked again, nor requeued for ever, but dead-lettered.
	@Test
	void duplicateOfAMessageWhoseResultWasNotKeptShouldBeDeadLettered() {
		String payment = newPayment();
		send(payment, RECEIPT);
		Message receipt = this.rabbit.receive(RECEIPTS, PATIENCE.toMillis());
		assertThat(receipt).isNotNull();
		send(payment, RECEIPT);
		Message deadLetter = this.rabbit.receive(DEAD_LETTERS, PATIENCE.toMillis());
		assertThat(deadLetter).isNotNull();
		assertThat(deadLetter.getMessageProperties().<String>getHeader("payment")).isEqualTo(payment);
		awaitQueueDrained();
		assertThat(this.ledger.bookings(payment)).containsExactly(RECEIPT);
		assertThat(this.ledger.attempts(payment)).isOne();
	}

	@Test
	void duplicateOfAMessageStillBeingProcessedShouldBeRequeuedUntilItCanBeReplayed() {
		String payment = newPayment();
		// Published twice, as by a producer that retried: the two consumers get a copy
		// each, and the one that finds the other still booking requeues its copy
		// rather than dropping it or booking it again.
		send(payment, "slow");
		send(payment, "slow");
		await().atMost(PATIENCE).until(() -> this.deliveries.delivered(payment) >= 3);
		await().atMost(PATIENCE).until(() -> this.ledger.bookings(payment).size() == 1);
		assertNothingDeadLettered();
		// The requeued copy is replayed, not left behind.
		await().atMost(PATIENCE)
			.until(() -> this.rabbit.execute((channel) -> channel.messageCount(QUEUE)) == 0
					&& this.deliveries.inFlight() == 0);
		assertThat(this.ledger.bookings(payment)).containsExactly("slow");
		assertThat(this.ledger.attempts(payment)).isOne();
	}

	// Two payments settled by one reference, each by its own consumer: the second finds
	// the settlement still running, an idempotent call inside its listener, and its
	// message is requeued after a pause rather than dropped or dead-lettered, until the
	// settlement can be replayed to it.
	@Test
	void messageWhoseListenerMeetsAnotherCallInProgressShouldBeRequeuedUntilItCanBeProcessed() {
		String first = newPayment();
		String second = newPayment();
		String reference = "settlement-" + UUID.randomUUID();
		send(first, SETTLE + reference);
		send(second, SETTLE + reference);
		await().atMost(PATIENCE)
			.until(() -> this.ledger.bookings(first).size() == 1 && this.ledger.bookings(second).size() == 1);
		// Paced: about one delivery each in-progress-retry-after (200 ms) while the
		// settlement runs (3 s); requeued at once, it would be thousands.
		assertThat(this.deliveries.delivered(first) + this.deliveries.delivered(second)).isBetween(3, 50);
		assertNothingDeadLettered();
		assertThat(this.settlements.settled(reference)).isOne();
		awaitQueueDrained();
	}

	void awaitQueueDrained() {
		await().atMost(PATIENCE)
			.until(() -> this.rabbit.execute((channel) -> channel.messageCount(QUEUE)) == 0
					&& this.deliveries.inFlight() == 0);
	}

	void assertNothingDeadLettered() {
		assertThat(this.rabbit.receive(DEAD_LETTERS)).isNull();
	}

	void send(String payment, String amount) {
		this.rabbit.convertAndSend("", QUEUE, amount, (message) -> {
			message.getMessageProperties().setHeader("payment", payment);
			if (amount.equals(RECEIPT)) {
				message.getMessageProperties().setReplyTo(RECEIPTS);
			}
			return message;
		});
	}

	static String newPayment() {
		return "payment-" + UUID.randomUUID();
	}

	@DynamicPropertySource
	static void servers(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
		registry.add("spring.rabbitmq.addresses", RabbitTestServer::address);
		registry.add("test.payments-queue", () -> QUEUE);
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class LedgerApplication {

		@Bean
		Ledger ledger(Settlements settlements) {
			return new Ledger(settlements);
		}

		@Bean
		Settlements settlements() {
			return new Settlements();
		}

		@Bean
		@ConditionalOnProperty(name = "test.async-listener", havingValue = "false", matchIfMissing = true)
		PaymentListener paymentListener(Ledger ledger) {
			return new PaymentListener(ledger);
		}

		@Bean
		@ConditionalOnProperty("test.async-listener")
		AsyncPaymentListener asyncPaymentListener(Ledger ledger) {
			return new AsyncPaymentListener(ledger);
		}

		@Bean
		Deliveries deliveries() {
			return new Deliveries();
		}

		@Bean
		Queue payments() {
			return QueueBuilder.nonDurable(QUEUE)
				.expires(QUEUE_EXPIRY)
				.deadLetterExchange("")
				.deadLetterRoutingKey(DEAD_LETTERS)
				.build();
		}

		@Bean
		Queue deadLetters() {
			return QueueBuilder.nonDurable(DEAD_LETTERS).expires(QUEUE_EXPIRY).build();
		}

		@Bean
		Queue receipts() {
			return QueueBuilder.nonDurable(RECEIPTS).expires(QUEUE_EXPIRY).build();
		}

		@Bean
		ContainerCustomizer<SimpleMessageListenerContainer> countDeliveries(Deliveries deliveries,
				Environment environment) {
			return (container) -> {
				container.setAfterReceivePostProcessors(deliveries);
				// Listener retry is advice of its own, which this would replace.
				if (!environment.getProperty("spring.rabbitmq.listener.simple.retry.enabled", Boolean.class, false)) {
					container.setAdviceChain(deliveries.dieBeforeAck());
				}
			};
		}

	}

	static class PaymentListener {

		private final Ledger ledger;

		PaymentListener(Ledger ledger) {
			this.ledger = ledger;
		}

		@RabbitListener(id = "ledger", queues = "${test.payments-queue}", concurrency = "2")
		@Idempotent(key = "#payment")
		public Receipt book(@Payload String amount, @Header("payment") String payment) {
			this.ledger.book(payment, amount);
			return Receipt.of(payment, amount);
		}

	}

	/**
	 * Books on another thread, and returns at once: Spring AMQP then acknowledges the
	 * message by hand once the future completes, and nacks it if the future fails. Its
	 * manual acknowledge mode, which the container takes on anyway, is written out as
	 * Spring AMQP's documentation once asked.
	 */
	static class AsyncPaymentListener {

		private final Ledger ledger;

		private final Executor executor = Executors.newCachedThreadPool();

		AsyncPaymentListener(Ledger ledger) {
			this.ledger = ledger;
		}

		@RabbitListener(id = "ledger", queues = "${test.payments-queue}", concurrency = "2", ackMode = "MANUAL")
		@Idempotent(key = "#payment")
		public CompletableFuture<Receipt> book(@Payload String amount, @Header("payment") String payment) {
			return CompletableFuture.supplyAsync(() -> {
				this.ledger.book(payment, amount);
				return Receipt.of(payment, amount);
			}, this.executor);
		}

	}

	/**
	 * What a booking answers with, when asked: its slip is of an interface type, which
	 * the kept JSON cannot be read back as, so that the listener's result is not kept. No
	 * answer, and nothing sent back, for other bookings.
	 */
	record Receipt(String payment, Slip slip) implements Serializable {

		static Receipt of(String payment, String amount) {
			return amount.equals(RECEIPT) ? new Receipt(payment, new PaperSlip("booked " + payment)) : null;
		}

	}

	interface Slip {

	}

	record PaperSlip(String text) implements Slip, Serializable {
	}

	static class Ledger {

		private final Settlements settlements;

		private final Map<String, List<String>> bookings = new ConcurrentHashMap<>();

		private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();

		private final Map<String, String> threads = new ConcurrentHashMap<>();

		Ledger(Settlements settlements) {
			this.settlements = settlements;
		}

		void book(String payment, String amount) {
			this.threads.put(payment, Thread.currentThread().toString());
			int attempt = this.attempts.computeIfAbsent(payment, (key) -> new AtomicInteger()).incrementAndGet();
			if (amount.equals("fail-once") && attempt == 1) {
				throw new IllegalStateException("The ledger is busy");
			}
			if (amount.equals("slow")) {
				sleep(BUSY);
			}
			if (amount.startsWith(SETTLE)) {
				this.settlements.settle(amount.substring(SETTLE.length()));
			}
			if (amount.startsWith(SETTLE_OR_REJECT)) {
				try {
					this.settlements.settle(amount.substring(SETTLE_OR_REJECT.length()));
				}
				catch (IdempotentCallInProgressException ex) {
					throw new AmqpRejectAndDontRequeueException("The settlement is busy", ex);
				}
			}
			this.bookings.computeIfAbsent(payment, (key) -> new CopyOnWriteArrayList<>()).add(amount);
		}

		List<String> bookings(String payment) {
			return this.bookings.getOrDefault(payment, List.of());
		}

		int attempts(String payment) {
			AtomicInteger count = this.attempts.get(payment);
			return (count != null) ? count.get() : 0;
		}

		String thread(String payment) {
			return this.threads.get(payment);
		}

	}

	/**
	 * Settles a reference once, slowly; the listeners of payments that share it call it.
	 */
	static class Settlements {

		private final Map<String, AtomicInteger> settled = new ConcurrentHashMap<>();

		@Idempotent(key = "#reference")
		public String settle(String reference) {
			this.settled.computeIfAbsent(reference, (key) -> new AtomicInteger()).incrementAndGet();
			sleep(BUSY);
			return reference;
		}

		int settled(String reference) {
			AtomicInteger count = this.settled.get(reference);
			return (count != null) ? count.get() : 0;
		}

	}

	/**
	 * Counts each payment's deliveries, and kills the channel of a consumer that has
	 * processed a message asking for it, before the message is acknowledged, as a
	 * consumer that died there would.
	 */
	static class Deliveries implements MessagePostProcessor {

		private final Map<String, AtomicInteger> delivered = new ConcurrentHashMap<>();

		private final AtomicInteger inFlight = new AtomicInteger();

		private final Set<String> died = ConcurrentHashMap.newKeySet();

		@Override
		public Message postProcessMessage(Message message) {
			String payment = message.getMessageProperties().getHeader("payment");
			this.delivered.computeIfAbsent(payment, (key) -> new AtomicInteger()).incrementAndGet();
			return message;
		}

		MethodInterceptor dieBeforeAck() {
			return (invocation) -> {
				this.inFlight.incrementAndGet();
				try {
					Object result = invocation.proceed();
					Object[] arguments = invocation.getArguments();
					if (arguments[0] instanceof Channel channel && arguments[1] instanceof Message message
							&& "die-before-ack".equals(new String(message.getBody()))
							&& this.died.add(message.getMessageProperties().getHeader("payment"))) {
						channel.abort();
					}
					return result;
				}
				finally {
					this.inFlight.decrementAndGet();
				}
			};
		}

		int delivered(String payment) {
			AtomicInteger count = this.delivered.get(payment);
			return (count != null) ? count.get() : 0;
		}

		int inFlight() {
			return this.inFlight.get();
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
