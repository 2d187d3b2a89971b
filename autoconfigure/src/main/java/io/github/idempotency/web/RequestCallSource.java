package io.github.idempotency.web;

import io.github.idempotency.interceptor.IdempotentCall;
import io.github.idempotency.interceptor.IdempotentCallSource;
import org.jspecify.annotations.Nullable;

import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;

/**
 * Finds the idempotent request being handled on the current thread, prepared by
 * {@link IdempotentHandlerInterceptor}, as a request attribute.
 *
 * @since 0.1.0
 */
public class RequestCallSource implements IdempotentCallSource {

	@Override
	public @Nullable IdempotentCall currentCall() {
		RequestAttributes attributes = RequestContextHolder.getRequestAttributes();
		if (attributes == null) {
			return null;
		}
		try {
			return (attributes.getAttribute(IdempotentExchange.ATTRIBUTE,
					RequestAttributes.SCOPE_REQUEST) instanceof IdempotentCall call) ? call : null;
		}
		catch (IllegalStateException ex) {
			// Attributes handed to a thread that outlived its request: no request to
			// drive.
			return null;
		}
	}

}
