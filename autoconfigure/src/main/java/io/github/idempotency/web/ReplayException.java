package io.github.idempotency.web;

import io.github.idempotency.StoredResponse;

/**
 * Answers a retry with the response stored for its key instead of running the handler
 * again. Rendered by {@link IdempotencyExceptionResolver} before any application
 * exception handler sees it.
 *
 * @since 0.1.0
 */
public class ReplayException extends RuntimeException {

	private final StoredResponse response;

	public ReplayException(StoredResponse response) {
		super("Replaying the stored response", null, false, false);
		this.response = response;
	}

	public StoredResponse getResponse() {
		return this.response;
	}

}
