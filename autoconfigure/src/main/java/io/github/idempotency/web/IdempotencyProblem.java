package io.github.idempotency.web;

import org.springframework.http.HttpStatus;

/**
 * The errors the starter answers with, each an RFC 9457 problem with a stable
 * {@code type} and {@code code}.
 *
 * @since 0.1.0
 */
public enum IdempotencyProblem {

	/**
	 * The endpoint requires a key and the request has none.
	 */
	KEY_MISSING(HttpStatus.BAD_REQUEST, "idempotency-key-missing", "Idempotency key missing"),

	/**
	 * The key is empty, too long, or not a valid header value.
	 */
	KEY_INVALID(HttpStatus.BAD_REQUEST, "idempotency-key-invalid", "Invalid idempotency key"),

	/**
	 * The body is larger than the starter buffers to fingerprint it.
	 */
	REQUEST_TOO_LARGE(HttpStatus.PAYLOAD_TOO_LARGE, "idempotency-request-too-large",
			"Request too large for idempotency"),

	/**
	 * The body ended before the length its {@code Content-Length} announced, or could not
	 * be read in full: the client stopped sending it (over HTTP/2, by resetting the
	 * stream), and what arrived is not the request it meant.
	 */
	REQUEST_INCOMPLETE(HttpStatus.BAD_REQUEST, "idempotency-request-incomplete", "Request body incomplete"),

	/**
	 * A request with the same key is still being processed.
	 */
	REQUEST_IN_PROGRESS(HttpStatus.CONFLICT, "idempotency-request-in-progress", "Request in progress"),

	/**
	 * The key was already used for a request with another payload.
	 */
	KEY_MISMATCH(HttpStatus.UNPROCESSABLE_ENTITY, "idempotency-key-mismatch",
			"Idempotency key reused with another request"),

	/**
	 * The idempotency store cannot be reached, and the request is refused rather than
	 * risk a duplicate.
	 */
	STORE_UNAVAILABLE(HttpStatus.SERVICE_UNAVAILABLE, "idempotency-store-unavailable", "Idempotency store unavailable"),

	/**
	 * The handler is {@code @Idempotent} but its bean is not advised (not proxied, or the
	 * method cannot be intercepted), so it is refused rather than run unprotected.
	 */
	NOT_PROTECTED(HttpStatus.SERVICE_UNAVAILABLE, "idempotency-not-protected", "Idempotency not in effect");

	/**
	 * Prefix of every problem {@code type}; the code follows it.
	 */
	public static final String TYPE_PREFIX = "urn:problem-type:idempotency:";

	private final HttpStatus status;

	private final String code;

	private final String title;

	IdempotencyProblem(HttpStatus status, String code, String title) {
		this.status = status;
		this.code = code;
		this.title = title;
	}

	public HttpStatus status() {
		return this.status;
	}

	public String code() {
		return this.code;
	}

	public String title() {
		return this.title;
	}

	/**
	 * The problem's {@code type} URI, such as
	 * {@code urn:problem-type:idempotency:idempotency-key-missing}.
	 * @return the type
	 */
	public String type() {
		return TYPE_PREFIX + this.code;
	}

}
