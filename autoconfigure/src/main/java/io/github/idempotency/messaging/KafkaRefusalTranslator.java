package io.github.idempotency.messaging;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

import io.github.idempotency.IdempotencyException;
import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.interceptor.RefusalTranslator;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.core.annotation.MergedAnnotations.SearchStrategy;
import org.springframework.kafka.annotation.KafkaHandler;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.annotation.RetryableTopic;

/**
 * What a {@code @KafkaListener} method's refusals mean to Kafka where the container's
 * error handler never sees them: in the work behind a future the listener returned.
 * Spring Kafka acknowledges the record of a future that fails, so a call inside that work
 * which met its duplicate in progress would lose the record. Instead the listener is
 * called again, from its idempotency advice on, after
 * {@code idempotency.in-progress-retry-after} (or, when the store did not answer the call
 * made again, {@code idempotency.store-unavailable-retry-after}), on a thread of the
 * starter's, and the future it first returned completes as that call does; the record
 * stays unacknowledged meanwhile. A listener with {@code @RetryableTopic} is left to it:
 * Spring Kafka sends the record of its failed future to the retry topic. Refusals a
 * listener throws are left to the {@link IdempotentKafkaErrorHandler}, and other methods'
 * refusals as they are.
 *
 * @since 0.1.0
 */
public class KafkaRefusalTranslator implements RefusalTranslator, DisposableBean {

	private final Duration inProgressRetryAfter;

	private final Duration storeUnavailableRetryAfter;

	private final Map<Method, Boolean> listeners = new ConcurrentHashMap<>();

	private final Pauses pauses = new Pauses("idempotency-kafka-retry-");

	/**
	 * @param inProgressRetryAfter the pause before a listener whose work met a duplicate
	 * in progress is called again
	 * @param storeUnavailableRetryAfter the pause before a listener called again that the
	 * store did not answer is called again
	 */
	public KafkaRefusalTranslator(Duration inProgressRetryAfter, Duration storeUnavailableRetryAfter) {
		this.inProgressRetryAfter = inProgressRetryAfter;
		this.storeUnavailableRetryAfter = storeUnavailableRetryAfter;
	}

	@Override
	public Throwable translate(IdempotencyException refusal, Method method) {
		return refusal;
	}

	@Override
	public @Nullable CompletionStage<?> callAgainLater(IdempotencyException refusal, Method method) {
		if (!this.listeners.computeIfAbsent(method, KafkaRefusalTranslator::isListener)
				|| Refusals.notYetProcessed(refusal) == null) {
			return null;
		}
		try {
			return this.pauses.thenOnAThreadOfItsOwn((refusal instanceof IdempotentCallInProgressException)
					? this.inProgressRetryAfter : this.storeUnavailableRetryAfter);
		}
		// The application is closing: the record stays unacknowledged, to be delivered
		// again once a consumer has its partition (unless a record acknowledged after it
		// committed past it: see docs/messaging.md).
		catch (RejectedExecutionException ex) {
			return new CompletableFuture<>();
		}
	}

	/**
	 * Stops the thread that times the pauses and the threads that make the calls again,
	 * without waiting for calls under way; listeners whose pause had not ended are not
	 * called again, and their records stay unacknowledged.
	 */
	@Override
	public void destroy() {
		this.pauses.close();
	}

	// Spring Kafka settles a listener's record by its future only when the listener is
	// declared to return a CompletableFuture. With @RetryableTopic, it sends the record
	// of a failed future to the retry topic, to be delivered again from there.
	private static boolean isListener(Method method) {
		MergedAnnotations annotations = MergedAnnotations.from(method, SearchStrategy.TYPE_HIERARCHY);
		return CompletableFuture.class.isAssignableFrom(method.getReturnType())
				&& (annotations.isPresent(KafkaListener.class) || annotations.isPresent(KafkaHandler.class))
				&& !annotations.isPresent(RetryableTopic.class)
				&& !MergedAnnotations.from(method.getDeclaringClass(), SearchStrategy.TYPE_HIERARCHY)
					.isPresent(RetryableTopic.class);
	}

}
