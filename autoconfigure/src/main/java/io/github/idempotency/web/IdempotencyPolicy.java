package io.github.idempotency.web;

import java.time.Duration;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The settings {@link IdempotencyCoordinator} applies to every idempotent request, unless
 * the handler's declaration overrides them.
 *
 * @param headerName the header carrying the key
 * @param ttl how long a completed response is replayed
 * @param lockTimeout how long a claim holds while its request runs
 * @param lockRenewal whether a claim's lease is renewed while its request runs
 * @param lockRenewalInterval how often it is renewed, or {@code null} for a third of the
 * lease; never less often than a third of the lease
 * @param lockRenewalMaxDuration how long after its claim a request's lease is still
 * renewed
 * @param waitTimeout how long a duplicate waits for the request in progress before
 * answering 409; zero answers at once
 * @param maxKeyLength the longest key accepted
 * @param onStoreFailure what to do when the store cannot be reached
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
public record IdempotencyPolicy(String headerName, Duration ttl, Duration lockTimeout, boolean lockRenewal,
		@Nullable Duration lockRenewalInterval, Duration lockRenewalMaxDuration, Duration waitTimeout, int maxKeyLength,
		OnStoreFailure onStoreFailure, List<String> replayedHeaders, String replayedHeaderName,
		boolean replayClientErrors, boolean replayServerErrors, Duration inProgressRetryAfter,
		Duration storeUnavailableRetryAfter, long maxBodySize, long maxResponseSize) {

	public IdempotencyPolicy {
		replayedHeaders = List.copyOf(replayedHeaders);
	}

	/**
	 * What happens to a request when the store cannot be reached.
	 */
	public enum OnStoreFailure {

		/**
		 * Answer 503 without running the handler: no risk of a duplicate.
		 */
		REJECT,

		/**
		 * Run the handler without idempotency, and log a warning.
		 */
		PROCEED

	}

}
