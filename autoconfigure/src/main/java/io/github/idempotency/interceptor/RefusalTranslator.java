package io.github.idempotency.interceptor;

import java.lang.reflect.Method;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import io.github.idempotency.IdempotencyException;
import org.jspecify.annotations.Nullable;

/**
 * Turns a call of an idempotent method that was not run into what the caller of the
 * method understands. A message broker's listener container, for one, redelivers or
 * dead-letters a message by the exception its listener throws, and may need another
 * exception than the one the method path throws, or a pause before it.
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface RefusalTranslator {

	/**
	 * Leaves every refusal as it is.
	 */
	RefusalTranslator NONE = (refusal, method) -> refusal;

	/**
	 * Translates a refusal. Called on the thread that called the method; it may wait
	 * before it answers, to pace the redeliveries of a message.
	 * @param refusal why the method did not run: a duplicate still running, a key reused
	 * with other arguments, a missing or unusable key, a store that does not answer, a
	 * record it cannot read, or a first call whose result was not kept
	 * @param method the method called
	 * @return what to throw instead, or {@code refusal} itself
	 */
	Throwable translate(IdempotencyException refusal, Method method);

	/**
	 * Whether a call of this method, when it is declared to return a
	 * {@code CompletableFuture}, hands every exception it would throw to its caller as a
	 * failed future instead: a refusal, a key or fingerprint expression that fails, a
	 * replayed exception, and one the method itself throws before it returns its future
	 * ({@link Error}s are thrown all the same). A listener container that settles a
	 * message by the future its listener returns may never see an exception thrown
	 * instead: RabbitMQ's acknowledges such listeners' messages itself, and leaves one
	 * whose listener threw unacknowledged. By default it is thrown.
	 * @param method the method called
	 * @return {@code true} to fail the future instead of throwing
	 */
	default boolean failsFuture(Method method) {
		return false;
	}

	/**
	 * Translates a refusal that failed the work behind a future the method returned: a
	 * call inside that work met its duplicate in progress. Called on the thread that
	 * completed the work, which it must not hold up: a pause before the future fails is
	 * taken by completing the stage returned later. By default the refusal is left as it
	 * is, at once.
	 * @param refusal why the call inside did not run
	 * @param method the method called
	 * @return a stage that completes with what to fail the future with, or with
	 * {@code refusal} itself
	 */
	default CompletionStage<Throwable> translateLater(IdempotencyException refusal, Method method) {
		return CompletableFuture.completedFuture(refusal);
	}

	/**
	 * Whether to call the method again, whole, when the work behind a future it returned
	 * met a duplicate in progress in a call inside it, rather than fail that future: for
	 * a listener container that settles a message by its listener's future and gives up
	 * on the message when the future fails. The future the first call returned then
	 * completes as the call made again does; made again, the call may meet a duplicate in
	 * progress itself, or a store that does not answer, and is made again later. Asked
	 * instead of {@link #translateLater}, on the thread that completed the work, which it
	 * must not hold up. The call is made again from the idempotency advice on (advice
	 * around it does not run again), on the thread that completes the stage, with the
	 * first call's key and fingerprint. By default no call is made again.
	 * @param refusal why the call inside did not run: a duplicate in progress; or, made
	 * again, why the call itself did not: a duplicate in progress, or a store that did
	 * not answer
	 * @param method the method called
	 * @return a stage that completes, after a pause, when the call is to be made again;
	 * or {@code null} not to make it again. One complete already has the call made again
	 * at once, on a thread of the common pool; one that fails fails the future with what
	 * its work failed with; one never completed leaves the future so
	 */
	default @Nullable CompletionStage<?> callAgainLater(IdempotencyException refusal, Method method) {
		return null;
	}

	/**
	 * Whether an exception an idempotent method threw tells its caller already what to do
	 * with the call (a listener container's requeue or reject, say): a refusal of an
	 * idempotent call inside the method, found among its causes, is then not translated
	 * over it. By default none does.
	 * @param thrown what the method threw, or one of its causes
	 * @return {@code true} to leave it as it is
	 */
	default boolean isTranslated(Throwable thrown) {
		return false;
	}

}
