package io.github.idempotency.messaging;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.UnreadableRecordException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.kafka.annotation.KafkaHandler;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.annotation.RetryableTopic;
import org.springframework.util.ReflectionUtils;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * When a listener whose future's work met a duplicate in progress is called again; what
 * the container does meanwhile is in {@link KafkaListenerTests}.
 */
class KafkaRefusalTranslatorTests {

	static final Duration PAUSE = Duration.ofMillis(300);

	final KafkaRefusalTranslator translator = new KafkaRefusalTranslator(PAUSE, PAUSE);

	final IdempotentCallInProgressException refusal = new IdempotentCallInProgressException("still running");

	@AfterEach
	void close() {
		this.translator.destroy();
	}

	// No later call reads it either.
	@Test
	void listenerWhoseRecordTheStoreCannotReadShouldNotBeCalledAgain() {
		assertThat(this.translator.callAgainLater(new UnreadableRecordException("key", "not a record", null),
				method(Ledger.class, "listen")))
			.isNull();
	}

	@Test
	void listenerShouldBeCalledAgainAfterThePause() {
		long start = System.nanoTime();
		CompletionStage<?> later = this.translator.callAgainLater(this.refusal, method(Ledger.class, "listen"));
		assertThat(later).isNotNull();
		// On a thread that the call made again may hold up, not the one timing pauses.
		assertThat(later.thenApply((ignored) -> Thread.currentThread().getName())).succeedsWithin(Duration.ofSeconds(5))
			.asString()
			.startsWith("idempotency-kafka-retry-call-");
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(PAUSE);
		assertThat(this.translator.callAgainLater(this.refusal, method(Handlers.class, "handle"))).isNotNull();
	}

	// Its record is left unacknowledged, for a consumer to have after the restart.
	@Test
	void listenerWhosePauseTheClosingApplicationCutShortShouldNeverBeCalledAgain() {
		CompletionStage<?> pending = this.translator.callAgainLater(this.refusal, method(Ledger.class, "listen"));
		this.translator.destroy();
		CompletionStage<?> later = this.translator.callAgainLater(this.refusal, method(Ledger.class, "listen"));
		await().during(PAUSE.multipliedBy(2))
			.atMost(PAUSE.multipliedBy(4))
			.until(() -> !pending.toCompletableFuture().isDone() && !later.toCompletableFuture().isDone());
	}

	@Test
	void methodOtherThanAListenerShouldNotBeCalledAgain() {
		assertThat(this.translator.callAgainLater(this.refusal, method(Ledger.class, "settle"))).isNull();
		assertThat(this.translator.callAgainLater(this.refusal, method(Ledger.class, "listenWithRetryTopics")))
			.isNull();
		assertThat(this.translator.callAgainLater(this.refusal, method(Ledger.class, "listenForAStage"))).isNull();
		assertThat(this.translator.translate(this.refusal, method(Ledger.class, "listen"))).isSameAs(this.refusal);
	}

	private static Method method(Class<?> type, String name) {
		return ReflectionUtils.findMethod(type, name, String.class);
	}

	static class Ledger {

		@KafkaListener(topics = "payments")
		public CompletableFuture<Void> listen(String payment) {
			return CompletableFuture.completedFuture(null);
		}

		public void settle(String reference) {
		}

		@KafkaListener(topics = "payments-retried")
		@RetryableTopic
		public CompletableFuture<Void> listenWithRetryTopics(String payment) {
			return CompletableFuture.completedFuture(null);
		}

		// Acknowledged by Spring Kafka when it returns, not when its stage completes.
		@KafkaListener(topics = "payments")
		public CompletionStage<Void> listenForAStage(String payment) {
			return CompletableFuture.completedFuture(null);
		}

	}

	@KafkaListener(topics = "payments")
	static class Handlers {

		@KafkaHandler
		public CompletableFuture<Void> handle(String payment) {
			return CompletableFuture.completedFuture(null);
		}

	}

}
