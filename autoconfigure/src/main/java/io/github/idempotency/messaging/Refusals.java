package io.github.idempotency.messaging;

import io.github.idempotency.IdempotencyException;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.IdempotentOutcomeNotStoredException;
import io.github.idempotency.UnreadableRecordException;
import org.jspecify.annotations.Nullable;

/**
 * Sorts the exceptions a listener container sees by what the broker should do with the
 * message.
 */
final class Refusals {

	private Refusals() {
	}

	/**
	 * The refusal behind a failure that must lead to a later delivery: a duplicate still
	 * running, or a store that did not answer. In either case the message was not
	 * processed, and dropping or dead-lettering it would lose it. A record the store
	 * cannot read is not among them: no later delivery reads it either. Nor is an outcome
	 * the store could not keep within the listener's transaction: the listener ran, and a
	 * failure that recurs on every delivery would run it forever.
	 * @param failure what the listener container caught
	 * @return the refusal, or {@code null} if the failure is something else
	 */
	static @Nullable IdempotencyException notYetProcessed(@Nullable Throwable failure) {
		// Bounded: causes may form a cycle, and this runs on a consumer's thread.
		Throwable cause = failure;
		for (int depth = 0; cause != null && depth < 32; depth++, cause = cause.getCause()) {
			if (cause instanceof UnreadableRecordException || cause instanceof IdempotentOutcomeNotStoredException) {
				return null;
			}
			if (cause instanceof IdempotentCallInProgressException || cause instanceof IdempotencyStoreException) {
				return (IdempotencyException) cause;
			}
		}
		return null;
	}

}
