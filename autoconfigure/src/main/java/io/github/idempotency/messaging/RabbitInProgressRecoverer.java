package io.github.idempotency.messaging;

import java.lang.reflect.Modifier;

import org.aopalliance.intercept.MethodInterceptor;

import org.springframework.amqp.ImmediateRequeueAmqpException;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.retry.MessageRecoverer;
import org.springframework.aop.framework.ProxyFactory;

/**
 * Recovers a message whose listener retries ran out, unless it was never processed: a
 * message whose duplicate was still in progress, or that the store could not check, is
 * requeued instead of handed to the delegate, which would reject it without requeue and
 * so drop or dead-letter it. Used with Spring Boot's listener retry
 * ({@code spring.rabbitmq.listener.simple.retry.enabled}). The auto-configuration defines
 * one where the application has no {@link MessageRecoverer}, and wraps the application's
 * with {@link #around}.
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
		requeueIfNotYetProcessed(cause);
		this.delegate.recover(message, cause);
	}

	/**
	 * Wraps a recoverer in a proxy of its own class where it can, so that it can still be
	 * injected as what it is, which requeues a message that was never processed instead
	 * of handing it to the recoverer.
	 * @param recoverer the recoverer
	 * @return the proxy
	 */
	public static MessageRecoverer around(MessageRecoverer recoverer) {
		ProxyFactory proxy = new ProxyFactory(recoverer);
		proxy.setProxyTargetClass(!Modifier.isFinal(recoverer.getClass().getModifiers()));
		proxy.addAdvice((MethodInterceptor) (invocation) -> {
			if (invocation.getMethod().getName().equals("recover")) {
				for (Object argument : invocation.getArguments()) {
					if (argument instanceof Throwable cause) {
						requeueIfNotYetProcessed(cause);
					}
				}
			}
			return invocation.proceed();
		});
		return (MessageRecoverer) proxy.getProxy(recoverer.getClass().getClassLoader());
	}

	private static void requeueIfNotYetProcessed(Throwable cause) {
		if (Refusals.notYetProcessed(cause) != null) {
			throw new ImmediateRequeueAmqpException("Not processed yet: requeued", cause);
		}
	}

}
