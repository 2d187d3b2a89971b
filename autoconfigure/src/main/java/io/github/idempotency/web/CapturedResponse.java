package io.github.idempotency.web;

import java.io.IOException;

import jakarta.servlet.http.HttpServletResponse;

import org.springframework.web.util.ContentCachingResponseWrapper;

/**
 * Holds back the body of an idempotent handler's response until it has been stored, and
 * notes whether the response went to the container's error page, whose body is written
 * later and cannot be captured.
 */
final class CapturedResponse extends ContentCachingResponseWrapper {

	private boolean errorSent;

	CapturedResponse(HttpServletResponse response) {
		super(response);
	}

	boolean isErrorSent() {
		return this.errorSent;
	}

	@Override
	public void sendError(int sc) throws IOException {
		this.errorSent = true;
		super.sendError(sc);
	}

	@Override
	public void sendError(int sc, String msg) throws IOException {
		this.errorSent = true;
		super.sendError(sc, msg);
	}

}
