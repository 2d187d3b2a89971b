package io.github.idempotency.interceptor;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * How one handler method is made idempotent, as declared on it. Values left {@code null}
 * fall back to the configured defaults.
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
 * @param declaredOnMethod whether the method itself is annotated: then requests of every
 * HTTP method are handled, where a class's annotation covers only the request methods
 * listed in {@code idempotency.methods}
 * @since 0.1.0
 */
public record IdempotentOperation(String name, @Nullable String headerName, @Nullable String keyExpression,
		boolean required, @Nullable Duration ttl, @Nullable Duration lockTimeout, boolean declaredOnMethod) {

}
