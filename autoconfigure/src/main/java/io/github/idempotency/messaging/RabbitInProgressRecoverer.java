package io.github.idempotency.messaging;

import org.springframework.amqp.ImmediateRequeueAmqpException;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.retry.MessageRecoverer;

/**
 * Recovers a message whose listener retries ran out, unless it was never processed: a
 * message whose duplicate was still in progress, or that the store could not check, is
 * requeued instead of handed to the delegate, which would reject it without requeue and
 * so drop or dead-letter it. Used with Spring Boot's listener retry
 * ({@code spring.rabbitmq.listener.simple.retry.enabled}).
 *
 * @since 0.1.0
 */
public class RabbitInProgressRecoverer implements MessageRecoverer {

	private final MessageRecoverer delegate;

	/**
	 * @param delegate what recovers every other message
	 */
	public RabbitInProgressRecoverer(MessageRecoverer delegate) {
		this.delegate = delegate;
	}

	@Override
	public void recover(Message message, Throwable cause) {
		if (Refusals.notYetProcessed(cause) != null) {
			throw new ImmediateRequeueAmqpException("Not processed yet: requeued", cause);
		}
		this.delegate.recover(message, cause);
	}

}
