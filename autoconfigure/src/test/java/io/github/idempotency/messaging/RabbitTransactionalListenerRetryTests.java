package io.github.idempotency.messaging;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.annotation.Idempotent.Completion;
import io.github.idempotency.test.RabbitTestServer;
import io.github.idempotency.test.RedisTestServer;
import org.aopalliance.aop.Advice;
import org.aopalliance.intercept.MethodInterceptor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.amqp.rabbit.config.SimpleRabbitListenerContainerFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.amqp.rabbit.retry.RepublishMessageRecoverer;
import org.springframework.amqp.rabbit.transaction.RabbitTransactionManager;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.messaging.handler.annotation.Payload;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An idempotent {@code @RabbitListener} in a container with a transaction manager and
 * Spring Boot's listener retry, whose attempts are all made inside the container's one
 * transaction: an attempt after a failure runs under the key the failed one still holds,
 * and a message whose attempts all fail reaches the application's recoverer, once. A
 * listener that keeps its outcome on return is not run again when the transaction rolls
 * back after it returned.
 */
@SpringBootTest(classes = RabbitTransactionalListenerRetryTests.PaymentsApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE,
		properties = { "idempotency.key-prefix=rabbit-tx-retry-test", "idempotency.in-progress-retry-after=200ms",
				"spring.rabbitmq.listener.simple.retry.enabled=true",
				// Three attempts on either line: Spring Boot 4 counts retries.
				"spring.rabbitmq.listener.simple.retry.max-attempts=3",
				"spring.rabbitmq.listener.simple.retry.max-retries=2",
				"spring.rabbitmq.listener.simple.retry.initial-interval=100ms", "spring.liquibase.enabled=false" })
class RabbitTransactionalListenerRetryTests {

	// Queues of their own per run: the broker outlives the tests.
	static final String QUEUE = "idempotency-test-tx-payments-" + UUID.randomUUID();

	static final String DEAD_LETTERS = QUEUE + ".dead-letters";

	static final String CHARGES = QUEUE + ".charges";

	static final Duration PATIENCE = Duration.ofSeconds(30);

	@Autowired
	RabbitTemplate rabbit;

	@Autowired
	PaymentListener listener;

	@BeforeAll
	static void brokerRuns() {
		RabbitTestServer.address();
	}

	@Test
	void attemptAfterAFailureShouldBookInTheSameDelivery() {
		String payment = "payment-" + UUID.randomUUID();
		send(payment, "fail-once");
		await().atMost(PATIENCE).until(() -> this.listener.booked(payment) == 1);
		assertThat(this.listener.attempts(payment)).isEqualTo(2);
		assertThat(this.rabbit.receive(DEAD_LETTERS, 500)).isNull();
	}

	@Test
	void messageWhoseAttemptsAllFailShouldReachTheRecovererOnce() {
		String payment = "payment-" + UUID.randomUUID();
		send(payment, "fail");
		Message deadLetter = this.rabbit.receive(DEAD_LETTERS, PATIENCE.toMillis());
		assertThat(deadLetter).isNotNull();
		assertThat(deadLetter.getMessageProperties().<String>getHeader("payment")).isEqualTo(payment);
		assertThat(this.listener.attempts(payment)).isEqualTo(3);
		assertThat(this.listener.booked(payment)).isZero();
		// Released once the transaction ended: the same message sent again runs again.
		send(payment, "fail");
		assertThat(this.rabbit.receive(DEAD_LETTERS, PATIENCE.toMillis())).isNotNull();
		assertThat(this.listener.attempts(payment)).isEqualTo(6);
		assertThat(this.rabbit.receive(DEAD_LETTERS, 500)).isNull();
	}

	// The container's transaction rolls back after the listener returned; the message is
	// delivered again.
	@Test
	void listenerKeptOnReturnShouldNotRunAgainWhenTheTransactionRollsBackAfterIt() {
		String payment = "payment-" + UUID.randomUUID();
		send(CHARGES, payment, "100");
		await().atMost(PATIENCE).until(() -> this.listener.deliveries(payment) == 2);
		assertThat(this.listener.charged(payment)).isOne();
		assertThat(this.listener.attempts(payment)).isOne();
	}

	void send(String payment, String amount) {
		send(QUEUE, payment, amount);
	}

	void send(String queue, String payment, String amount) {
		this.rabbit.convertAndSend("", queue, amount, (message) -> {
			message.getMessageProperties().setHeader("payment", payment);
			return message;
		});
	}

	@DynamicPropertySource
	static void servers(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
		registry.add("spring.rabbitmq.addresses", RabbitTestServer::address);
		registry.add("test.payments-queue", () -> QUEUE);
		registry.add("test.charges-queue", () -> CHARGES);
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class PaymentsApplication {

		@Bean
		PaymentListener paymentListener() {
			return new PaymentListener();
		}

		@Bean
		Queue payments() {
			return QueueBuilder.nonDurable(QUEUE).expires(600_000).build();
		}

		@Bean
		Queue charges() {
			return QueueBuilder.nonDurable(CHARGES).expires(600_000).build();
		}

		@Bean
		Queue deadLetters() {
			return QueueBuilder.nonDurable(DEAD_LETTERS).expires(600_000).build();
		}

		@Bean
		RepublishMessageRecoverer republishToDeadLetters(RabbitTemplate rabbit) {
			return new RepublishMessageRecoverer(rabbit, "", DEAD_LETTERS);
		}

		@Bean
		RabbitTransactionManager rabbitTransactionManager(ConnectionFactory connectionFactory) {
			return new RabbitTransactionManager(connectionFactory);
		}

		// Spring Boot gives the container factory no transaction manager of its own.
		@Bean
		static BeanPostProcessor transactionalContainers(ObjectProvider<RabbitTransactionManager> transactions,
				ObjectProvider<PaymentListener> listener) {
			return new BeanPostProcessor() {
				@Override
				public Object postProcessAfterInitialization(Object bean, String name) {
					if (bean instanceof SimpleRabbitListenerContainerFactory factory) {
						factory.setTransactionManager(transactions.getObject());
						factory.setChannelTransacted(true);
						// Outside the retry Spring Boot puts in the chain: what it throws
						// rolls the transaction back.
						List<Advice> chain = new ArrayList<>();
						chain.add(failingOnFirstChargeDelivery(listener));
						chain
							.addAll(Arrays.asList(Objects.requireNonNullElse(factory.getAdviceChain(), new Advice[0])));
						factory.setAdviceChain(chain.toArray(Advice[]::new));
					}
					return bean;
				}
			};
		}

		// Throws after the listener returned from the first delivery of a charge.
		private static MethodInterceptor failingOnFirstChargeDelivery(ObjectProvider<PaymentListener> listener) {
			return (invocation) -> {
				Object result = invocation.proceed();
				if (invocation.getArguments()[1] instanceof Message message
						&& CHARGES.equals(message.getMessageProperties().getConsumerQueue())
						&& listener.getObject().delivered(message.getMessageProperties().getHeader("payment")) == 1) {
					throw new IllegalStateException("The transaction cannot commit");
				}
				return result;
			};
		}

	}

	static class PaymentListener {

		private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();

		private final Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();

		private final Map<String, AtomicInteger> charged = new ConcurrentHashMap<>();

		private final Map<String, AtomicInteger> booked = new ConcurrentHashMap<>();

		@RabbitListener(queues = "${test.payments-queue}")
		@Idempotent(key = "#payment")
		public void book(@Payload String amount, @Header("payment") String payment) {
			int attempt = count(this.attempts, payment).incrementAndGet();
			if (amount.equals("fail") || (amount.equals("fail-once") && attempt == 1)) {
				throw new IllegalStateException("The ledger is busy");
			}
			count(this.booked, payment).incrementAndGet();
		}

		// Publishes nothing on the transaction's channel: what it does, the rollback does
		// not undo.
		@RabbitListener(queues = "${test.charges-queue}")
		@Idempotent(key = "#payment", completion = Completion.ON_RETURN)
		public void charge(@Payload String amount, @Header("payment") String payment) {
			count(this.attempts, payment).incrementAndGet();
			count(this.charged, payment).incrementAndGet();
		}

		int delivered(String payment) {
			return count(this.deliveries, payment).incrementAndGet();
		}

		int deliveries(String payment) {
			return count(this.deliveries, payment).get();
		}

		int charged(String payment) {
			return count(this.charged, payment).get();
		}

		int attempts(String payment) {
			return count(this.attempts, payment).get();
		}

		int booked(String payment) {
			return count(this.booked, payment).get();
		}

		private static AtomicInteger count(Map<String, AtomicInteger> counts, String payment) {
			return counts.computeIfAbsent(payment, (key) -> new AtomicInteger());
		}

	}

}
