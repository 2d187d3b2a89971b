package io.github.idempotency.messaging;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import io.github.idempotency.IdempotencyKeyReusedException;
import io.github.idempotency.IdempotentCallInProgressException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.amqp.AmqpRejectAndDontRequeueException;
import org.springframework.amqp.ImmediateRequeueAmqpException;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.util.ReflectionUtils;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a listener's future fails with when the work behind it met a duplicate in
 * progress, and when; what the container does with it is in
 * {@link RabbitAsyncListenerTests}.
 */
class RabbitRefusalTranslatorTests {

	static final Duration PAUSE = Duration.ofMillis(300);

	final RabbitRefusalTranslator translator = new RabbitRefusalTranslator(PAUSE, PAUSE);

	@AfterEach
	void close() {
		this.translator.destroy();
	}

	@Test
	void duplicateInProgressShouldBeRequeuedAfterThePause() {
		IdempotentCallInProgressException refusal = new IdempotentCallInProgressException("still running");
		long start = System.nanoTime();
		CompletableFuture<Throwable> translated = this.translator.translateLater(refusal, method("listen"))
			.toCompletableFuture();
		assertThat(translated).succeedsWithin(Duration.ofSeconds(5))
			.isInstanceOf(ImmediateRequeueAmqpException.class)
			.satisfies((requeue) -> assertThat(requeue.getCause()).isSameAs(refusal));
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(PAUSE);
	}

	// The thread that times pauses is gone: the message is requeued at once rather
	// than its future left to fail never.
	@Test
	void duplicateInProgressMetWhileTheApplicationClosesShouldBeRequeuedAtOnce() {
		this.translator.translateLater(new IdempotentCallInProgressException("first"), method("listen"));
		this.translator.destroy();
		assertRequeuedAtOnce();
	}

	@Test
	void closedBeforeAnyPauseShouldRequeueAtOnce() {
		this.translator.destroy();
		assertRequeuedAtOnce();
	}

	private void assertRequeuedAtOnce() {
		CompletableFuture<Throwable> translated = this.translator
			.translateLater(new IdempotentCallInProgressException("still running"), method("listen"))
			.toCompletableFuture();
		assertThat(translated).isCompleted();
		assertThat(translated.join()).isInstanceOf(ImmediateRequeueAmqpException.class);
	}

	@Test
	void keyReusedShouldBeRejectedAtOnce() {
		CompletableFuture<Throwable> translated = this.translator
			.translateLater(new IdempotencyKeyReusedException("other payload"), method("listen"))
			.toCompletableFuture();
		assertThat(translated).isCompleted();
		assertThat(translated.join()).isInstanceOf(AmqpRejectAndDontRequeueException.class);
	}

	@Test
	void methodOtherThanAListenerShouldKeepItsRefusal() {
		IdempotentCallInProgressException refusal = new IdempotentCallInProgressException("still running");
		assertThat(this.translator.translateLater(refusal, method("settle")).toCompletableFuture())
			.isCompletedWithValue(refusal);
	}

	private static Method method(String name) {
		return ReflectionUtils.findMethod(Ledger.class, name, String.class);
	}

	static class Ledger {

		@RabbitListener(queues = "payments")
		public CompletableFuture<Void> listen(String payment) {
			return CompletableFuture.completedFuture(null);
		}

		public void settle(String reference) {
		}

	}

}
