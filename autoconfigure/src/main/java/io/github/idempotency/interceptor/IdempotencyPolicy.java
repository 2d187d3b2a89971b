package io.github.idempotency.interceptor;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * The settings {@link IdempotencyLifecycle} applies to every idempotent operation,
 * whatever its transport, unless the operation's declaration overrides them.
 *
 * @param ttl how long a completed outcome is replayed
 * @param lockTimeout how long a claim holds while its operation runs
 * @param lockRenewal whether a claim's lease is renewed while its operation runs
 * @param lockRenewalInterval how often it is renewed, or {@code null} for a third of the
 * lease; never less often than a third of the lease
 * @param lockRenewalMaxDuration how long after its claim an operation's lease is still
 * renewed
 * @param waitTimeout how long a duplicate waits for the call in progress before it is
 * told so; zero tells it at once
 * @param maxKeyLength the longest key accepted
 * @param onStoreFailure what to do when the store cannot be reached
 * @since 0.1.0
 */
public record IdempotencyPolicy(Duration ttl, Duration lockTimeout, boolean lockRenewal,
		@Nullable Duration lockRenewalInterval, Duration lockRenewalMaxDuration, Duration waitTimeout, int maxKeyLength,
		OnStoreFailure onStoreFailure) {

	/**
	 * The shortest lock timeout accepted: a lease is renewed by a task that looks for due
	 * renewals every 50 milliseconds, and a shorter lease could lapse between renewals.
	 */
	public static final Duration SHORTEST_LOCK_TIMEOUT = Duration.ofMillis(200);

	/**
	 * The longest lock timeout, wait timeout or renewal duration accepted: they are
	 * counted in nanoseconds, which hold about 292 years.
	 */
	public static final Duration LONGEST_WAIT = Duration.ofDays(365);

	/**
	 * The longest retention accepted, 100 years: longer, the time a record expires would
	 * overflow what stores keep (MariaDB's times end with the year 9999, Redis's and
	 * Java's milliseconds some 292 million years on), and every outcome would be lost.
	 */
	public static final Duration LONGEST_RETENTION = Duration.ofDays(36_500);

	/**
	 * Whether a lock timeout is within the range accepted.
	 * @param lockTimeout the lock timeout
	 * @return {@code true} if it is at least {@link #SHORTEST_LOCK_TIMEOUT} and at most
	 * {@link #LONGEST_WAIT}
	 */
	public static boolean isUsableLockTimeout(Duration lockTimeout) {
		return lockTimeout.compareTo(SHORTEST_LOCK_TIMEOUT) >= 0 && lockTimeout.compareTo(LONGEST_WAIT) <= 0;
	}

	/**
	 * What happens to a call when the store cannot be reached.
	 */
	public enum OnStoreFailure {

		/**
		 * Refuse the call without running it: no risk of a duplicate.
		 */
		REJECT,

		/**
		 * Run it without idempotency, and log a warning.
		 */
		PROCEED

	}

}
