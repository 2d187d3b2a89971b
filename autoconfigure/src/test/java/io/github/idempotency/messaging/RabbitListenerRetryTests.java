package io.github.idempotency.messaging;

import org.springframework.boot.test.context.SpringBootTest;

/**
 * An idempotent {@code @RabbitListener} in an application that retries listeners and
 * never requeues a rejected message, as applications with dead-letter queues are often
 * set up: a duplicate still in progress is requeued all the same, once its retries run
 * out, rather than dead-lettered.
 */
@SpringBootTest(classes = AbstractRabbitListenerTests.LedgerApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE,
		properties = { "idempotency.key-prefix=rabbit-retry-test", "idempotency.in-progress-retry-after=200ms",
				"spring.rabbitmq.listener.simple.default-requeue-rejected=false",
				"spring.rabbitmq.listener.simple.retry.enabled=true",
				"spring.rabbitmq.listener.simple.retry.max-attempts=3",
				"spring.rabbitmq.listener.simple.retry.initial-interval=100ms", "spring.liquibase.enabled=false" })
class RabbitListenerRetryTests extends AbstractRabbitListenerTests {

}
