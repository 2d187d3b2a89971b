package io.github.idempotency.messaging;

import java.time.Duration;

import io.github.idempotency.IdempotencyKeyReusedException;
import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.IdempotentResultNotKeptException;
import io.github.idempotency.InvalidIdempotencyKeyException;
import org.junit.jupiter.api.Test;

import org.springframework.kafka.listener.CommonLoggingErrorHandler;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.support.TopicPartitionOffset;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How the error handler treats the application's: what it changes on it, and which it can
 * wrap. What it does with records is in {@link KafkaListenerTests}.
 */
class IdempotentKafkaErrorHandlerTests {

	static final Duration PAUSE = Duration.ofMillis(100);

	@Test
	void refusalsARetryCannotHelpShouldBeMadeNotRetryableOnTheApplicationsHandler() {
		DefaultErrorHandler application = new DefaultErrorHandler();
		new IdempotentKafkaErrorHandler(application, PAUSE, PAUSE);
		assertThat(application.removeClassification(IdempotencyKeyReusedException.class)).isFalse();
		assertThat(application.removeClassification(InvalidIdempotencyKeyException.class)).isFalse();
		assertThat(application.removeClassification(IdempotentResultNotKeptException.class)).isFalse();
		assertThat(application.removeClassification(IdempotentCallInProgressException.class)).isNull();
	}

	@Test
	void deliveryAttemptsShouldBeTheApplicationsHandlers() {
		assertThat(new IdempotentKafkaErrorHandler(new DefaultErrorHandler(), PAUSE, PAUSE).deliveryAttemptHeader())
			.isTrue();
		assertThat(
				new IdempotentKafkaErrorHandler(new CommonLoggingErrorHandler(), PAUSE, PAUSE).deliveryAttemptHeader())
			.isFalse();
		assertThat(new IdempotentKafkaErrorHandler(new DefaultErrorHandler(), PAUSE, PAUSE)
			.deliveryAttempt(new TopicPartitionOffset("payments", 0, 7L))).isOne();
	}

	@Test
	void seekingAndAcknowledgingShouldBeTheApplicationsHandlers() {
		// The container asks the wrapper how offsets are handled, and the handlers that
		// retry refusals must handle them the same way.
		CommonLoggingErrorHandler logging = new CommonLoggingErrorHandler();
		logging.setAckAfterHandle(false);
		IdempotentKafkaErrorHandler handler = new IdempotentKafkaErrorHandler(logging, PAUSE, PAUSE);
		assertThat(handler.seeksAfterHandling()).isFalse();
		assertThat(handler.isAckAfterHandle()).isFalse();
		handler.setAckAfterHandle(true);
		assertThat(logging.isAckAfterHandle()).isTrue();
	}

}
