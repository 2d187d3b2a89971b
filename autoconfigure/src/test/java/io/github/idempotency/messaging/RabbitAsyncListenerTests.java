package io.github.idempotency.messaging;

import org.springframework.boot.test.context.SpringBootTest;

/**
 * An idempotent {@code @RabbitListener} that returns a future, whose messages Spring AMQP
 * settles by that future: a duplicate in progress, a reused key and a failure reach it as
 * a failed future, and are requeued, dead-lettered and requeued as for a listener that
 * returns when done. Thrown instead, they would leave the message unacknowledged until
 * the channel closed.
 */
@SpringBootTest(classes = AbstractRabbitListenerTests.LedgerApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE,
		properties = { "idempotency.key-prefix=rabbit-async-test", "idempotency.in-progress-retry-after=200ms",
				"spring.liquibase.enabled=false", "test.async-listener=true" })
class RabbitAsyncListenerTests extends AbstractRabbitListenerTests {

}
