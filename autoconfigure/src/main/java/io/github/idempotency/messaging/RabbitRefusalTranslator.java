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

import org.springframework.amqp.AmqpRejectAndDontRequeueException;
import org.springframework.amqp.ImmediateRequeueAmqpException;
import org.springframework.amqp.rabbit.annotation.RabbitHandler;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.core.annotation.MergedAnnotations.SearchStrategy;

/**
 * What a {@code @RabbitListener} method's refusals mean to RabbitMQ. A message whose
 * duplicate is still being processed, or that the store could not check, is requeued
 * after a pause on the listener's thread, whatever the container's
 * {@code defaultRequeueRejected} says: it was not processed, so it must not be dropped or
 * dead-lettered, and requeued at once it would come straight back. A key reused with
 * another payload, a missing key and a result that was not kept are rejected without
 * requeue, to the queue's dead-letter exchange where it has one. Other methods' refusals
 * are left as they are. A listener declared to return a {@code CompletableFuture} gets
 * each of them in a failed future, by which Spring AMQP settles its messages; where its
 * work fails because a call inside met a duplicate in progress, the future fails with the
 * requeue after the pause, timed on a thread of its own rather than the listener's.
 *
 * @since 0.1.0
 */
public class RabbitRefusalTranslator implements RefusalTranslator, DisposableBean {

	private final Duration inProgressRetryAfter;

	private final Duration storeUnavailableRetryAfter;

	private final Map<Method, Boolean> listeners = new ConcurrentHashMap<>();

	private final Pauses pauses = new Pauses("idempotency-requeue-");

	/**
	 * @param inProgressRetryAfter the pause before a message whose duplicate is in
	 * progress is requeued
	 * @param storeUnavailableRetryAfter the pause before a message the store could not
	 * check is requeued
	 */
	public RabbitRefusalTranslator(Duration inProgressRetryAfter, Duration storeUnavailableRetryAfter) {
		this.inProgressRetryAfter = inProgressRetryAfter;
		this.storeUnavailableRetryAfter = storeUnavailableRetryAfter;
	}

	@Override
	public Throwable translate(IdempotencyException refusal, Method method) {
		if (!isListenerMethod(method)) {
			return refusal;
		}
		if (Refusals.notYetProcessed(refusal) == null) {
			return new AmqpRejectAndDontRequeueException(refusal.getMessage(), refusal);
		}
		pause(pauseBeforeRequeue(refusal));
		return new ImmediateRequeueAmqpException(refusal.getMessage(), refusal);
	}

	// The future of a listener whose work met a duplicate in progress fails after the
	// pause, which holds up no thread of the listener's: Spring AMQP nacks the message
	// when it fails.
	@Override
	public CompletionStage<Throwable> translateLater(IdempotencyException refusal, Method method) {
		if (!isListenerMethod(method)) {
			return CompletableFuture.completedFuture(refusal);
		}
		if (Refusals.notYetProcessed(refusal) == null) {
			return CompletableFuture
				.completedFuture(new AmqpRejectAndDontRequeueException(refusal.getMessage(), refusal));
		}
		ImmediateRequeueAmqpException requeue = new ImmediateRequeueAmqpException(refusal.getMessage(), refusal);
		try {
			return this.pauses.after(pauseBeforeRequeue(refusal), requeue);
		}
		// The application is closing: requeue now.
		catch (RejectedExecutionException ex) {
			return CompletableFuture.completedFuture(requeue);
		}
	}

	/**
	 * Stops the thread that fails futures after their pause; messages whose futures it
	 * had not failed yet stay unacknowledged, and RabbitMQ requeues them when their
	 * channel closes.
	 */
	@Override
	public void destroy() {
		this.pauses.close();
	}

	// A listener returning a future makes Spring AMQP acknowledge by hand, and it settles
	// the message by the future: one the listener threw instead stays unacknowledged.
	@Override
	public boolean failsFuture(Method method) {
		return isListenerMethod(method);
	}

	// What Spring AMQP's container reads to requeue or reject, whatever its defaults.
	@Override
	public boolean isTranslated(Throwable thrown) {
		return thrown instanceof ImmediateRequeueAmqpException || thrown instanceof AmqpRejectAndDontRequeueException;
	}

	private boolean isListenerMethod(Method method) {
		return this.listeners.computeIfAbsent(method, RabbitRefusalTranslator::isListener);
	}

	private static boolean isListener(Method method) {
		MergedAnnotations annotations = MergedAnnotations.from(method, SearchStrategy.TYPE_HIERARCHY);
		return annotations.isPresent(RabbitListener.class) || annotations.isPresent(RabbitHandler.class);
	}

	private Duration pauseBeforeRequeue(IdempotencyException refusal) {
		return (refusal instanceof IdempotentCallInProgressException) ? this.inProgressRetryAfter
				: this.storeUnavailableRetryAfter;
	}

	private static void pause(Duration pause) {
		try {
			Thread.sleep(pause.toMillis());
		}
		catch (InterruptedException ex) {
			// The container is stopping: requeue now.
			Thread.currentThread().interrupt();
		}
	}

}
