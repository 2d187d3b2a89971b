package io.github.idempotency.messaging;

import java.time.Duration;

import io.github.idempotency.IdempotencyKeyReusedException;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.IdempotentResultNotKeptException;
import io.github.idempotency.InvalidIdempotencyKeyException;
import io.github.idempotency.UnreadableRecordException;

import org.springframework.kafka.listener.CommonDelegatingErrorHandler;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.ExceptionClassifier;
import org.springframework.util.backoff.FixedBackOff;

/**
 * A Kafka listener container's error handler that knows what an idempotent listener's
 * refusals mean. A record whose duplicate is still being processed (by another consumer
 * after a rebalance, say), or that could not be checked because the idempotency store did
 * not answer, was not processed: it is retried with a fixed back-off for as long as it
 * takes, and never recovered, since recovering it would commit its offset. Every other
 * failure goes to the application's own handler, whatever its back-off, retry
 * classification or recoverer. Where that handler classifies exceptions (a
 * {@link DefaultErrorHandler} does), a key reused with another payload, a missing key and
 * a result that was not kept are made not retryable, so that such a record goes to its
 * recoverer (a dead-letter topic, where one is configured) at once.
 *
 * <p>
 * The auto-configuration gives one to every listener container before it starts. Wrap the
 * handler of a container created later in one yourself.
 *
 * @since 0.1.0
 */
public class IdempotentKafkaErrorHandler extends CommonDelegatingErrorHandler {

	private final CommonErrorHandler applicationHandler;

	/**
	 * Wraps a handler, and makes the refusals that retrying cannot help not retryable on
	 * it where it classifies exceptions.
	 * @param applicationHandler the handler every other failure goes to; a container
	 * without one uses a {@link DefaultErrorHandler} with its defaults
	 * @param inProgressRetryAfter how long to wait before a record whose duplicate is in
	 * progress is tried again
	 * @param storeUnavailableRetryAfter how long to wait before a record the store could
	 * not check is tried again
	 */
	public IdempotentKafkaErrorHandler(CommonErrorHandler applicationHandler, Duration inProgressRetryAfter,
			Duration storeUnavailableRetryAfter) {
		super(classified(applicationHandler));
		this.applicationHandler = applicationHandler;
		// The refusal is usually the cause of the container's own exception, and of a
		// BatchListenerFailedException for a batch.
		setCauseChainTraversing(true);
		// The most specific first: the first delegate whose type matches wins, and an
		// unreadable record is not something a retry fixes.
		addDelegate(UnreadableRecordException.class, applicationHandler);
		addDelegate(IdempotentCallInProgressException.class, retryingForever(inProgressRetryAfter));
		addDelegate(IdempotencyStoreException.class, retryingForever(storeUnavailableRetryAfter));
	}

	/**
	 * The handler every failure other than a duplicate in progress or a store that did
	 * not answer goes to.
	 * @return the application's handler
	 */
	public CommonErrorHandler getApplicationHandler() {
		return this.applicationHandler;
	}

	private DefaultErrorHandler retryingForever(Duration interval) {
		DefaultErrorHandler handler = new DefaultErrorHandler(
				new FixedBackOff(interval.toMillis(), FixedBackOff.UNLIMITED_ATTEMPTS));
		// A delegate must treat offsets as the application's handler does.
		handler.setSeekAfterError(this.applicationHandler.seeksAfterHandling());
		handler.setAckAfterHandle(this.applicationHandler.isAckAfterHandle());
		return handler;
	}

	private static CommonErrorHandler classified(CommonErrorHandler handler) {
		if (handler instanceof ExceptionClassifier classifier) {
			classifier.addNotRetryableExceptions(IdempotencyKeyReusedException.class,
					InvalidIdempotencyKeyException.class, IdempotentResultNotKeptException.class);
		}
		return handler;
	}

}
