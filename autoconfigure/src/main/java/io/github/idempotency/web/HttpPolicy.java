package io.github.idempotency.web;

import java.time.Duration;
import java.util.List;

/**
 * What idempotent HTTP requests add to the settings every transport shares (those are the
 * {@link io.github.idempotency.interceptor.IdempotencyPolicy}): where the key comes from,
 * which responses are stored, and what is sent back.
 *
 * @param headerName the header carrying the key
 * @param replayedHeaders the response headers stored and replayed
 * @param replayedHeaderName the header that marks a replayed response
 * @param replayClientErrors whether 4xx responses (other than 408 and 429) are stored and
 * replayed
 * @param replayServerErrors whether 5xx responses are stored and replayed, rather than
 * released for a retry
 * @param inProgressRetryAfter the {@code Retry-After} sent with 409
 * @param storeUnavailableRetryAfter the {@code Retry-After} sent with 503
 * @param maxBodySize the largest request body buffered for fingerprinting, in bytes
 * @param maxResponseSize the largest response body stored, in bytes
 * @since 0.1.0
 */
public record HttpPolicy(String headerName, List<String> replayedHeaders, String replayedHeaderName,
		boolean replayClientErrors, boolean replayServerErrors, Duration inProgressRetryAfter,
		Duration storeUnavailableRetryAfter, long maxBodySize, long maxResponseSize) {

	public HttpPolicy {
		replayedHeaders = List.copyOf(replayedHeaders);
	}

}
