package io.github.idempotency.web;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * Answers a request with one of the starter's {@link IdempotencyProblem problems} instead
 * of running its handler. Rendered by {@link IdempotencyExceptionResolver} before any
 * application exception handler sees it.
 *
 * @since 0.1.0
 */
public class IdempotencyProblemException extends RuntimeException {

	private final IdempotencyProblem problem;

	private final @Nullable Duration retryAfter;

	public IdempotencyProblemException(IdempotencyProblem problem, String detail, @Nullable Duration retryAfter) {
		super(detail, null, false, false);
		this.problem = problem;
		this.retryAfter = retryAfter;
	}

	public IdempotencyProblem getProblem() {
		return this.problem;
	}

	/**
	 * When the client may retry, sent as {@code Retry-After}; {@code null} for none.
	 * @return the delay
	 */
	public @Nullable Duration getRetryAfter() {
		return this.retryAfter;
	}

}
