package io.github.idempotency.web.edge;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.servlet.http.HttpServletRequest;

import org.springframework.stereotype.Component;
import org.springframework.web.filter.AbstractRequestLoggingFilter;

/**
 * Spring's request logging with the payload, as {@code CommonsRequestLoggingFilter} does
 * it (through a {@code ContentCachingRequestWrapper}), for requests sent with
 * {@code X-Log-Payload}. No {@code @Order}, so it runs inside the starter's filter.
 */
@Component
public class RequestPayloadLoggingFilter extends AbstractRequestLoggingFilter {

	private final List<String> logged = new CopyOnWriteArrayList<>();

	public RequestPayloadLoggingFilter() {
		setIncludePayload(true);
		setAfterMessagePrefix("");
		setAfterMessageSuffix("");
	}

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return request.getHeader("X-Log-Payload") == null;
	}

	@Override
	protected boolean shouldLog(HttpServletRequest request) {
		return true;
	}

	@Override
	protected void beforeRequest(HttpServletRequest request, String message) {
	}

	@Override
	protected void afterRequest(HttpServletRequest request, String message) {
		this.logged.add(message);
	}

	public List<String> logged() {
		return this.logged;
	}

}
