package io.github.idempotency.messaging;

import java.util.UUID;

import org.junit.jupiter.api.Test;

import org.springframework.amqp.core.Message;
import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An idempotent {@code @RabbitListener} in an application that never requeues a rejected
 * message and does not retry listeners: a message whose duplicate is still in progress is
 * requeued all the same, its own or that of an idempotent call inside the listener; a
 * reused key and the listener's own failure are dead-lettered.
 */
@SpringBootTest(classes = AbstractRabbitListenerTests.LedgerApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE,
		properties = { "idempotency.key-prefix=rabbit-no-requeue-test", "idempotency.in-progress-retry-after=200ms",
				"spring.rabbitmq.listener.simple.default-requeue-rejected=false", "spring.liquibase.enabled=false" })
class RabbitListenerWithoutRequeueTests extends AbstractRabbitListenerTests {

	// Nothing redelivers a message whose listener failed here: it is dead-lettered, its
	// key released, so that the message sent again is booked.
	@Override
	@Test
	void failureShouldReleaseTheKeySoThatTheNextAttemptBooks() {
		String payment = newPayment();
		send(payment, "fail-once");
		Message deadLetter = this.rabbit.receive(DEAD_LETTERS, PATIENCE.toMillis());
		assertThat(deadLetter).isNotNull();
		assertThat(deadLetter.getMessageProperties().<String>getHeader("payment")).isEqualTo(payment);
		send(payment, "fail-once");
		await().atMost(PATIENCE).until(() -> this.ledger.bookings(payment).size() == 1);
		assertThat(this.ledger.attempts(payment)).isEqualTo(2);
		assertNothingDeadLettered();
	}

	// A listener that turns the refusal it met into a rejection of its own keeps it: the
	// message is dead-lettered as it chose, not requeued over its choice.
	@Test
	void rejectionTheListenerChoseForAnInnerRefusalShouldStand() {
		String first = newPayment();
		String second = newPayment();
		String reference = "settlement-" + UUID.randomUUID();
		send(first, SETTLE_OR_REJECT + reference);
		send(second, SETTLE_OR_REJECT + reference);
		Message deadLetter = this.rabbit.receive(DEAD_LETTERS, PATIENCE.toMillis());
		assertThat(deadLetter).isNotNull();
		String rejected = deadLetter.getMessageProperties().getHeader("payment");
		String booked = rejected.equals(first) ? second : first;
		assertThat(rejected).isIn(first, second);
		await().atMost(PATIENCE).until(() -> this.ledger.bookings(booked).size() == 1);
		awaitQueueDrained();
		assertThat(this.ledger.bookings(rejected)).isEmpty();
		assertThat(this.settlements.settled(reference)).isOne();
		assertNothingDeadLettered();
	}

}
