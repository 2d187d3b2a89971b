package io.github.idempotency.web;

import java.io.IOException;
import java.io.InputStream;
import java.util.Set;

import io.github.idempotency.interceptor.IdempotentCall;
import io.github.idempotency.interceptor.IdempotentOperation;
import io.github.idempotency.interceptor.IdempotentOperationSource;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;

import org.springframework.http.MediaType;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.util.WebUtils;

/**
 * Prepares requests that reach an idempotent handler, and finishes them once their
 * response is written.
 *
 * <p>
 * Before the handler's arguments are bound, it reads the whole body (answering 413 above
 * {@code idempotency.max-body-size}) so that the fingerprint exists when the key is
 * claimed, and starts capturing the response. After the response is written, it has the
 * claim completed or released, and only then lets the body reach the client: a client
 * that has seen a response will find it stored when it retries.
 *
 * <p>
 * Requires {@link IdempotencyFilter} in front of the {@code DispatcherServlet}.
 * Thread-safe.
 *
 * @since 0.1.0
 */
public class IdempotentHandlerInterceptor implements HandlerInterceptor {

	private final IdempotentOperationSource operations;

	private final IdempotencyCoordinator coordinator;

	private final ProblemResponseWriter problemWriter;

	private final Set<String> methods;

	/**
	 * @param operations tells which handlers are idempotent
	 * @param coordinator claims, decides and completes
	 * @param problemWriter writes the 413 answer
	 * @param methods the request methods that may be idempotent, upper case
	 */
	public IdempotentHandlerInterceptor(IdempotentOperationSource operations, IdempotencyCoordinator coordinator,
			ProblemResponseWriter problemWriter, Set<String> methods) {
		this.operations = operations;
		this.coordinator = coordinator;
		this.problemWriter = problemWriter;
		this.methods = Set.copyOf(methods);
	}

	@Override
	public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler)
			throws IOException {
		if (!(handler instanceof HandlerMethod handlerMethod) || !this.methods.contains(request.getMethod())
				|| request.getAttribute(IdempotentCall.ATTRIBUTE) != null) {
			return true;
		}
		IdempotentOperation operation = this.operations.getOperation(handlerMethod.getMethod(),
				handlerMethod.getBeanType());
		if (operation == null) {
			return true;
		}
		IdempotencyFilter.SwappableRequest swappableRequest = WebUtils.getNativeRequest(request,
				IdempotencyFilter.SwappableRequest.class);
		IdempotencyFilter.SwappableResponse swappableResponse = WebUtils.getNativeResponse(response,
				IdempotencyFilter.SwappableResponse.class);
		if (swappableRequest == null || swappableResponse == null) {
			throw new IllegalStateException(operation.name() + " is @Idempotent but the request did not pass"
					+ " through IdempotencyFilter; register the filter in front of the DispatcherServlet");
		}
		if (operation.keyExpression() == null && !operation.required()
				&& request.getHeader(this.coordinator.headerName(operation)) == null) {
			this.coordinator.record(request, IdempotencyOutcome.BYPASSED);
			return true;
		}
		byte[] body = null;
		if (!isFormData(request)) {
			body = readBody(request);
			if (body == null) {
				this.coordinator.record(request, IdempotencyOutcome.TOO_LARGE);
				this.problemWriter.write(
						new IdempotencyProblemException(
								IdempotencyProblem.REQUEST_TOO_LARGE, "The request body is larger than the "
										+ this.coordinator.policy().maxBodySize() + " bytes this operation accepts.",
								null),
						request, response);
				return false;
			}
			swappableRequest
				.setRequest(new BufferedBodyRequest((HttpServletRequest) swappableRequest.getRequest(), body));
		}
		CapturedResponse captured = new CapturedResponse((HttpServletResponse) swappableResponse.getResponse());
		swappableResponse.setResponse(captured);
		request.setAttribute(IdempotentCall.ATTRIBUTE,
				new IdempotentExchange(this.coordinator, operation, request, body, captured));
		return true;
	}

	@Override
	public void afterCompletion(HttpServletRequest request, HttpServletResponse response, Object handler,
			@Nullable Exception ex) throws IOException {
		if (request.getAttribute(IdempotentCall.ATTRIBUTE) instanceof IdempotentExchange exchange) {
			request.removeAttribute(IdempotentCall.ATTRIBUTE);
			exchange.finish(ex);
		}
	}

	// Null when the body is larger than allowed.
	private byte @Nullable [] readBody(HttpServletRequest request) throws IOException {
		long limit = this.coordinator.policy().maxBodySize();
		long declared = request.getContentLengthLong();
		if (declared > limit) {
			return null;
		}
		InputStream input = request.getInputStream();
		if (declared >= 0) {
			// The common case: read exactly what was announced, then check nothing
			// follows.
			byte[] body = input.readNBytes((int) declared);
			return (input.read() == -1) ? body : null;
		}
		byte[] body = input.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
		return (body.length > limit) ? null : body;
	}

	// The container parses form data into parameters itself, reading the body from its
	// own buffer; reading it here would leave the handler's @RequestParam values empty.
	private static boolean isFormData(HttpServletRequest request) {
		String contentType = request.getContentType();
		if (contentType == null) {
			return false;
		}
		try {
			MediaType type = MediaType.parseMediaType(contentType);
			return MediaType.APPLICATION_FORM_URLENCODED.includes(type) || "multipart".equals(type.getType());
		}
		catch (IllegalArgumentException ex) {
			return false;
		}
	}

}
