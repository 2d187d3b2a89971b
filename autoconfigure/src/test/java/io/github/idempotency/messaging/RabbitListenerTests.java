package io.github.idempotency.messaging;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An idempotent {@code @RabbitListener} as Spring Boot sets listeners up by default: a
 * listener's exception requeues its message at once, and there is no listener retry.
 */
@SpringBootTest(classes = AbstractRabbitListenerTests.LedgerApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE, properties = { "idempotency.key-prefix=rabbit-test",
				"idempotency.in-progress-retry-after=200ms", "spring.liquibase.enabled=false" })
class RabbitListenerTests extends AbstractRabbitListenerTests {

	// The module's virtual-threads run: Spring Boot gives the container virtual threads.
	@Test
	@EnabledIfSystemProperty(named = "idempotency.test.threads", matches = "virtual")
	void sameMessageDeliveredTwiceToAVirtualThreadShouldBeBookedOnce() {
		String payment = newPayment();
		send(payment, "100");
		send(payment, "100");
		await().atMost(PATIENCE).until(() -> this.deliveries.delivered(payment) >= 2);
		await().atMost(PATIENCE).until(() -> this.ledger.bookings(payment).size() == 1);
		assertThat(this.ledger.bookings(payment)).containsExactly("100");
		assertThat(this.ledger.thread(payment)).startsWith("VirtualThread");
		assertNothingDeadLettered();
	}

	@Test
	void messageProcessedByAConsumerThatDiedBeforeAcknowledgingShouldNotBeBookedAgainByTheNext() {
		String payment = newPayment();
		send(payment, "die-before-ack");
		await().atMost(PATIENCE).until(() -> this.deliveries.delivered(payment) >= 2);
		await().atMost(PATIENCE)
			.until(() -> this.rabbit.execute((channel) -> channel.messageCount(QUEUE)) == 0
					&& this.deliveries.inFlight() == 0);
		assertThat(this.ledger.bookings(payment)).containsExactly("die-before-ack");
		assertThat(this.ledger.attempts(payment)).isOne();
		assertNothingDeadLettered();
	}

}
