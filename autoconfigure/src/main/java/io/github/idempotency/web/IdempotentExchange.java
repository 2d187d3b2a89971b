package io.github.idempotency.web;

import java.io.IOException;
import java.lang.reflect.Method;
import java.time.Duration;

import io.github.idempotency.interceptor.IdempotentCall;
import io.github.idempotency.interceptor.IdempotentOperation;
import jakarta.servlet.http.HttpServletRequest;
import org.jspecify.annotations.Nullable;

/**
 * One request to an idempotent handler, from the moment its body is buffered until its
 * response is stored or its claim released. Confined to the request; not thread-safe.
 */
final class IdempotentExchange implements IdempotentCall {

	private final IdempotencyCoordinator coordinator;

	private final IdempotentOperation operation;

	private final HttpServletRequest request;

	private final byte @Nullable [] body;

	private final CapturedResponse response;

	private boolean begun;

	private @Nullable String recordKey;

	private @Nullable String token;

	private Duration ttl = Duration.ZERO;

	private LeaseRenewals.@Nullable Claim renewal;

	IdempotentExchange(IdempotencyCoordinator coordinator, IdempotentOperation operation, HttpServletRequest request,
			byte @Nullable [] body, CapturedResponse response) {
		this.coordinator = coordinator;
		this.operation = operation;
		this.request = request;
		this.body = body;
		this.response = response;
	}

	@Override
	public void beforeInvocation(Method method, Object[] arguments) {
		// A handler may call other idempotent beans; only the outermost call speaks for
		// the request.
		if (this.begun) {
			return;
		}
		this.begun = true;
		this.coordinator.begin(this, method, arguments);
	}

	void finish(@Nullable Exception failure) throws IOException {
		try {
			this.coordinator.finish(this, this.response, failure);
		}
		finally {
			this.response.copyBodyToResponse();
		}
	}

	void claimed(String recordKey, String token, Duration ttl, LeaseRenewals.@Nullable Claim renewal) {
		this.recordKey = recordKey;
		this.token = token;
		this.ttl = ttl;
		this.renewal = renewal;
	}

	LeaseRenewals.@Nullable Claim renewal() {
		return this.renewal;
	}

	void bypass() {
		this.recordKey = null;
		this.token = null;
	}

	boolean begun() {
		return this.begun;
	}

	IdempotentOperation operation() {
		return this.operation;
	}

	HttpServletRequest request() {
		return this.request;
	}

	byte @Nullable [] body() {
		return this.body;
	}

	@Nullable String recordKey() {
		return this.recordKey;
	}

	@Nullable String token() {
		return this.token;
	}

	Duration ttl() {
		return this.ttl;
	}

}
