package io.github.idempotency.messaging;

import org.junit.jupiter.api.Test;

import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.amqp.rabbit.retry.RepublishMessageRecoverer;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An idempotent {@code @RabbitListener} in an application that retries listeners, never
 * requeues a rejected message, and republishes a message whose retries ran out to the
 * dead-letter queue with a recoverer of its own, as applications with dead-letter queues
 * are often set up: a duplicate still in progress is requeued all the same, once its
 * retries run out, rather than dead-lettered.
 */
@SpringBootTest(
		classes = { AbstractRabbitListenerTests.LedgerApplication.class, RabbitListenerRetryTests.Republishing.class },
		webEnvironment = SpringBootTest.WebEnvironment.NONE,
		properties = { "idempotency.key-prefix=rabbit-retry-test", "idempotency.in-progress-retry-after=200ms",
				"spring.rabbitmq.listener.simple.default-requeue-rejected=false",
				"spring.rabbitmq.listener.simple.retry.enabled=true",
				"spring.rabbitmq.listener.simple.retry.max-attempts=3",
				"spring.rabbitmq.listener.simple.retry.initial-interval=100ms", "spring.liquibase.enabled=false" })
class RabbitListenerRetryTests extends AbstractRabbitListenerTests {

	@Autowired
	RepublishMessageRecoverer recoverer;

	@Test
	void applicationsRecovererShouldKeepItsTypeAroundTheRequeueOfMessagesNotYetProcessed() {
		assertThat(AopUtils.isCglibProxy(this.recoverer)).isTrue();
		assertThat(AopUtils.getTargetClass(this.recoverer)).isEqualTo(RepublishMessageRecoverer.class);
	}

	@TestConfiguration(proxyBeanMethods = false)
	static class Republishing {

		@Bean
		RepublishMessageRecoverer republishToDeadLetters(RabbitTemplate rabbit) {
			return new RepublishMessageRecoverer(rabbit, "", DEAD_LETTERS);
		}

	}

}
