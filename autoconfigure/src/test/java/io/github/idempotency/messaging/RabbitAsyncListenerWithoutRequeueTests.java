package io.github.idempotency.messaging;

import org.springframework.boot.test.context.SpringBootTest;

/**
 * The same as {@link RabbitListenerWithoutRequeueTests}, with a listener that returns a
 * future: a duplicate in progress met by an idempotent call inside its work fails the
 * future with a requeue, after a pause, rather than with the refusal, which Spring AMQP
 * would dead-letter here.
 */
@SpringBootTest(classes = AbstractRabbitListenerTests.LedgerApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE,
		properties = { "idempotency.key-prefix=rabbit-async-no-requeue-test",
				"idempotency.in-progress-retry-after=200ms",
				"spring.rabbitmq.listener.simple.default-requeue-rejected=false", "spring.liquibase.enabled=false",
				"test.async-listener=true" })
class RabbitAsyncListenerWithoutRequeueTests extends RabbitListenerWithoutRequeueTests {

}
