package io.github.idempotency.interceptor;

import java.time.Duration;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * How one method is made idempotent, as declared on it. Values left {@code null} fall
 * back to the configured defaults.
 *
 * @param name a readable name of the method, for messages
 * @param headerName the header carrying the key, or {@code null} for the configured
 * default
 * @param keyExpression a SpEL expression computing the key from the method arguments, or
 * {@code null} to read a header
 * @param required whether a request without a key is rejected
 * @param ttl how long the response is replayed, or {@code null} for the configured
 * default
 * @param lockTimeout how long a claim holds, or {@code null} for the configured default
 * @param waitTimeout how long a duplicate waits for the call in progress, or {@code null}
 * for the configured default
 * @param declaredOnMethod whether the method itself is annotated: then requests of every
 * HTTP method are handled, where a class's annotation covers only the request methods
 * listed in {@code idempotency.methods}
 * @param handler whether the method is a web handler: its calls are then idempotent only
 * as the requests they handle, and run plainly when called otherwise; any other method's
 * every call is idempotent, keyed by {@code keyExpression}
 * @param scope names the records of calls outside a web request, or {@code null} for the
 * method's own
 * @param fingerprintExpression a SpEL expression naming what makes two calls outside a
 * web request the same, or {@code null} for all their arguments
 * @param finalExceptions exceptions kept as the outcome of a call outside a web request,
 * and thrown again on replay; any other releases the key
 * @param completion when the outcome of a call in a transaction is stored, or
 * {@code null} for the configured default
 * @param consumer for a message listener, the consumer its calls are made for (a Kafka
 * consumer group, a RabbitMQ listener or its queues), whose records are kept apart from
 * other consumers' so that each consumer processes a message once; {@code null} for other
 * methods, or when the scope is set
 * @since 0.1.0
 */
public record IdempotentOperation(String name, @Nullable String headerName, @Nullable String keyExpression,
		boolean required, @Nullable Duration ttl, @Nullable Duration lockTimeout, @Nullable Duration waitTimeout,
		boolean declaredOnMethod, boolean handler, @Nullable String scope, @Nullable String fingerprintExpression,
		List<Class<? extends Throwable>> finalExceptions, @Nullable Completion completion, @Nullable String consumer) {

	public IdempotentOperation {
		finalExceptions = List.copyOf(finalExceptions);
	}

	/**
	 * When the outcome of a call in a transaction is stored.
	 */
	public enum Completion {

		/**
		 * Within the transaction, as it commits, where the store can take part in it;
		 * once it has committed elsewhere. A rollback releases the key.
		 */
		IN_TRANSACTION,

		/**
		 * Once the transaction has committed, on its own. A rollback releases the key.
		 */
		AFTER_COMMIT,

		/**
		 * As soon as the method returns, whatever then becomes of the transaction.
		 */
		ON_RETURN

	}

}
