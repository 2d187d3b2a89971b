package io.github.idempotency.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Makes a method safe to retry: the first call with a given idempotency key runs the
 * method, and every retry with the same key and the same payload receives the stored
 * result instead of running it again.
 *
 * <p>
 * On a Spring MVC handler method, the key comes from a request header (or the
 * {@link #key()} expression), and the stored result is the response, replayed byte for
 * byte. On a method of any other Spring bean, the key comes from the {@link #key()}
 * expression, which is then required; the result is the return value, kept as JSON and
 * read back as the method's declared return type. Such a method throws
 * {@link io.github.idempotency.IdempotentCallInProgressException} for a duplicate of a
 * call still running, and {@link io.github.idempotency.IdempotencyKeyReusedException} for
 * a key reused with other arguments.
 *
 * <p>
 * On a handler method, applies to requests of every HTTP method its mapping accepts. On a
 * class, applies to every handler method of that class that is neither private nor
 * static, for requests whose method is listed in {@code idempotency.methods} (POST and
 * PATCH by default); others pass through untouched. An annotation on a method replaces
 * the class's.
 *
 * <p>
 * Every attribute left at its default takes its value from the {@code idempotency.*}
 * configuration properties.
 *
 * @since 0.1.0
 */
@Target({ ElementType.METHOD, ElementType.TYPE })
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Idempotent {

	/**
	 * Name of the request header that carries the idempotency key. Empty means
	 * {@code idempotency.header-name} ({@code Idempotency-Key} unless configured). Cannot
	 * be combined with {@link #key()}. A name that is not a valid header name fails at
	 * startup.
	 * @return the header name
	 */
	String headerName() default "";

	/**
	 * SpEL expression that computes the idempotency key from the method's arguments, for
	 * APIs that carry the key in the request body rather than in a header. When set, no
	 * header is read.
	 * <p>
	 * The expression sees each argument by its parameter name
	 * ({@code #order.clientReference}), and also as {@code #p0}, {@code #a0} and so on.
	 * It runs after argument binding and validation. A {@code null} result counts as a
	 * missing key, an empty one as an invalid key. An expression naming a variable the
	 * method does not have fails at startup. On a web handler, an expression that fails
	 * counts as a missing key too; one that fails whatever the request (a property its
	 * type lacks) is logged once, as a warning.
	 * @return the key expression
	 */
	String key() default "";

	/**
	 * Whether a request without a key is rejected with 400. When {@code false}, such a
	 * request runs normally, without idempotency: nothing is stored and nothing is
	 * replayed.
	 * @return whether the key is required
	 */
	boolean required() default true;

	/**
	 * How long a completed response is kept for replay, counted from completion, such as
	 * {@code "1h"} or {@code "PT30M"}, or a placeholder such as
	 * {@code "${payments.ttl}"}. A number needs its unit, as in every duration here: a
	 * bare {@code "86400"} fails startup. Empty means {@code idempotency.ttl}.
	 * @return the retention
	 */
	String ttl() default "";

	/**
	 * How long a claim holds while the method runs before another request may take the
	 * key over, such as {@code "2m"}, or a placeholder; from 200 milliseconds to 365
	 * days. Empty means {@code idempotency.lock-timeout}.
	 * @return the lock timeout
	 */
	String lockTimeout() default "";

	/**
	 * How long a duplicate of a call still running waits for it to finish, and then
	 * replays its outcome, such as {@code "2s"}; {@code "0s"} answers at once (409, or
	 * {@link io.github.idempotency.IdempotentCallInProgressException} outside HTTP). A
	 * placeholder is resolved. At most 365 days. Empty means
	 * {@code idempotency.wait-timeout}.
	 * @return the wait timeout
	 */
	String waitTimeout() default "";

	/**
	 * Names the records of a method that is not a web handler, so that methods sharing a
	 * scope share records on purpose: one key then names one call among them. Empty means
	 * the method's own scope, its class and name. Ignored for requests to a web handler,
	 * which are scoped by route.
	 * @return the scope
	 */
	String scope() default "";

	/**
	 * SpEL expression naming what makes two calls of a method that is not a web handler
	 * the same, over its arguments like {@link #key()}. Empty means every argument, as
	 * canonical JSON written by the application's JSON mapper. A call whose key was used
	 * with another fingerprint throws
	 * {@link io.github.idempotency.IdempotencyKeyReusedException}. Set on a web handler,
	 * it fails at startup.
	 * @return the fingerprint expression
	 */
	String fingerprint() default "";

	/**
	 * Exceptions that are the final outcome of a method that is not a web handler: the
	 * call is recorded as failed, and retries throw the same exception type, with the
	 * same message, without running the method. Any other exception releases the key, so
	 * that a retry runs the method again. Each type needs a public constructor taking a
	 * message, or none. Set on a web handler, they fail at startup.
	 * @return the exception types kept
	 */
	Class<? extends Throwable>[] finalExceptions() default {};

	/**
	 * When the outcome of a method that is not a web handler is stored, if the method
	 * runs in a transaction. {@link Completion#DEFAULT} follows
	 * {@code idempotency.jdbc.complete-in-transaction}.
	 * @return when the outcome is stored
	 */
	Completion completion() default Completion.DEFAULT;

	/**
	 * When the outcome of a call in a transaction is stored.
	 */
	enum Completion {

		/**
		 * As {@code idempotency.jdbc.complete-in-transaction} says.
		 */
		DEFAULT,

		/**
		 * Within the transaction, as it commits, so that the outcome commits with the
		 * method's own writes, where the store can take part in the transaction (the JDBC
		 * store, on the transaction's {@code DataSource}); once it has committed
		 * elsewhere.
		 */
		IN_TRANSACTION,

		/**
		 * Once the transaction has committed, on its own.
		 */
		AFTER_COMMIT,

		/**
		 * As soon as the method returns, whatever then becomes of the transaction: for a
		 * method whose effects the transaction does not undo (a call to another service,
		 * writes to a database the transaction does not cover, as for a listener in a
		 * RabbitMQ transaction), so that a rollback after it returned does not release
		 * its key and have a retry run it again. What the rollback does undo (its writes
		 * in that transaction, messages published on the transaction's channel) is lost:
		 * a retry replays the outcome. An exception other than a final one releases the
		 * key as soon as the method throws. A future's outcome is kept when it completes,
		 * as always.
		 */
		ON_RETURN

	}

}
