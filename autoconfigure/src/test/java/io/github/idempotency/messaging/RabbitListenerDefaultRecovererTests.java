package io.github.idempotency.messaging;

import org.springframework.boot.test.context.SpringBootTest;

/**
 * An idempotent {@code @RabbitListener} in an application that retries listeners and
 * never requeues a rejected message, with no recoverer of its own: the starter's
 * recoverer requeues a duplicate still in progress once its retries run out, and rejects
 * every other message, to the dead-letter queue.
 */
@SpringBootTest(classes = AbstractRabbitListenerTests.LedgerApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE,
		properties = { "idempotency.key-prefix=rabbit-recoverer-test", "idempotency.in-progress-retry-after=200ms",
				"spring.rabbitmq.listener.simple.default-requeue-rejected=false",
				"spring.rabbitmq.listener.simple.retry.enabled=true",
				"spring.rabbitmq.listener.simple.retry.max-attempts=3",
				"spring.rabbitmq.listener.simple.retry.initial-interval=100ms", "spring.liquibase.enabled=false" })
class RabbitListenerDefaultRecovererTests extends AbstractRabbitListenerTests {

}
