package io.github.idempotency.interceptor;

import java.lang.reflect.AccessibleObject;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import io.github.idempotency.IdempotencyException;
import io.github.idempotency.IdempotencyKeyReusedException;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.IdempotentOutcomeNotStoredException;
import io.github.idempotency.IdempotentResultNotKeptException;
import io.github.idempotency.InvalidIdempotencyKeyException;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.UnreadableRecordException;
import io.github.idempotency.json.JsonCanonicalizer;
import io.github.idempotency.json.ResultCodec;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.Advisor;
import org.springframework.aop.IntroductionAdvisor;
import org.springframework.aop.Pointcut;
import org.springframework.aop.PointcutAdvisor;
import org.springframework.aop.ProxyMethodInvocation;
import org.springframework.aop.framework.Advised;
import org.springframework.aop.interceptor.ExposeInvocationInterceptor;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.BeanUtils;
import org.springframework.core.BridgeMethodResolver;
import org.springframework.core.MethodClassKey;
import org.springframework.core.ResolvableType;
import org.springframework.core.annotation.MergedAnnotation;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.core.annotation.MergedAnnotations.SearchStrategy;
import org.springframework.expression.EvaluationException;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.interceptor.TransactionAttribute;
import org.springframework.transaction.interceptor.TransactionInterceptor;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.util.ClassUtils;

/**
 * The method path: runs an {@code @Idempotent} method of any bean through the
 * {@link IdempotencyLifecycle}, outside an HTTP request. The key comes from the
 * operation's key expression over the arguments; the fingerprint is the SHA-256 of the
 * arguments (or of what the fingerprint expression names) as canonical JSON; the outcome
 * kept is the return value, written as JSON by the application's mapper and read back as
 * the method's declared return type on replay.
 *
 * <p>
 * A {@link CompletionStage} return completes the record when it completes. Inside a
 * transaction the record is completed once the transaction has committed, or, where the
 * operation asks for it and the store can, within the transaction as it commits; it is
 * released if the transaction rolls back. An operation may ask to be kept on return
 * instead, whatever the transaction does. Any exception releases the key, except those
 * the operation names final, which are kept and thrown again on replay. A duplicate that
 * finds the first call still running throws {@link IdempotentCallInProgressException}; a
 * key reused with other arguments throws {@link IdempotencyKeyReusedException}.
 *
 * <p>
 * Thread-safe.
 *
 * @since 0.1.0
 */
public class IdempotentMethodInvoker {

	private static final Log logger = LogFactory.getLog(IdempotentMethodInvoker.class);

	// Names the type of a final exception in the stored outcome; its body is the message.
	private static final String EXCEPTION_TYPE = "Exception-Type";

	// Marks the outcome of a call whose value could not be kept.
	private static final String RESULT = "Result";

	// Marks a final exception that a method returning a future threw before it returned
	// one, so that replays throw it too.
	private static final String THROWN_EARLY = "Thrown-Early";

	private static final Map<String, List<String>> JSON = Map.of("Content-Type", List.of("application/json"));

	private static final ResolvableType ANY = ResolvableType.forClass(Object.class);

	private static final ResolvableType ARGUMENTS = ResolvableType.forClass(Object[].class);

	private static final ResolvableType MESSAGE = ResolvableType.forClass(String.class);

	private static final int RETURNED = 200;

	private static final int THREW = 500;

	private static final long DEFAULT_MAX_RESULT_SIZE = 1024 * 1024;

	private static final StoredResponse NOT_KEPT_OUTCOME = new StoredResponse(RETURNED,
			Map.of(RESULT, List.of("not-kept")), new byte[0]);

	private static final boolean TRANSACTIONS_PRESENT = ClassUtils.isPresent(
			"org.springframework.transaction.support.TransactionSynchronizationManager",
			IdempotentMethodInvoker.class.getClassLoader());

	private final IdempotencyLifecycle lifecycle;

	private final ResultCodec codec;

	private final JsonCanonicalizer canonicalizer;

	private final IdempotencyKeyParser keyParser;

	private final KeyExpressionEvaluator expressions = new KeyExpressionEvaluator();

	private final Map<MethodClassKey, Target> targets = new ConcurrentHashMap<>(32);

	private @Nullable MethodInterceptor transactionAdvice;

	private boolean completeInTransaction;

	private RefusalTranslator refusals = RefusalTranslator.NONE;

	private long maxResultSize = DEFAULT_MAX_RESULT_SIZE;

	/**
	 * @param lifecycle claims keys and keeps records
	 * @param codec writes and reads return values and writes arguments
	 * @param canonicalizer puts the written arguments in canonical form
	 */
	public IdempotentMethodInvoker(IdempotencyLifecycle lifecycle, ResultCodec codec, JsonCanonicalizer canonicalizer) {
		this.lifecycle = lifecycle;
		this.codec = codec;
		this.canonicalizer = canonicalizer;
		this.keyParser = new IdempotencyKeyParser(lifecycle.policy().maxKeyLength());
	}

	/**
	 * Sets the application's transaction advice, for a store that keeps outcomes within
	 * transactions. A call of a method that is also {@code @Transactional} (with the
	 * default propagation) and that arrives outside any transaction then has its
	 * transaction begun right after its key is claimed, around the method and the keeping
	 * of its outcome: the outcome is stored in the method's own transaction. Without it,
	 * the idempotency advice, which runs outside the transaction advice, would see that
	 * transaction only once it had committed.
	 * @param transactionAdvice the advice that applies {@code @Transactional}, such as
	 * Spring's {@code TransactionInterceptor}
	 */
	public void setTransactionAdvice(@Nullable MethodInterceptor transactionAdvice) {
		this.transactionAdvice = transactionAdvice;
	}

	/**
	 * Sets whether the outcome of a call in a transaction is stored within it, where the
	 * store can take part in the transaction, for operations that do not say; by default
	 * it is stored once the transaction has committed.
	 * @param completeInTransaction {@code true} to store outcomes within transactions
	 */
	public void setCompleteInTransaction(boolean completeInTransaction) {
		this.completeInTransaction = completeInTransaction;
	}

	/**
	 * Sets the largest outcome kept, in bytes of JSON: a return value, or the message of
	 * a final exception. A larger value is returned but not kept, so that later calls
	 * with its key throw {@link IdempotentResultNotKeptException}; a larger message is
	 * kept without it. By default 1 MiB.
	 * @param maxResultSize the largest size, positive
	 */
	public void setMaxResultSize(long maxResultSize) {
		if (maxResultSize <= 0) {
			throw new IllegalArgumentException("The largest result kept must be positive, not " + maxResultSize);
		}
		this.maxResultSize = maxResultSize;
	}

	/**
	 * Sets what turns a call that was not run into what its caller understands, such as a
	 * message broker's "deliver again later"; by default the exceptions documented on
	 * {@link #invoke} are thrown.
	 * @param refusals the translator
	 */
	public void setRefusalTranslator(RefusalTranslator refusals) {
		this.refusals = refusals;
	}

	/**
	 * Runs a call of an idempotent method, or answers it from its record.
	 * @param invocation the call
	 * @param operation how the method is idempotent; its key expression is set
	 * @param targetClass the class of the bean called
	 * @return what the method returned, now or when it first ran
	 * @throws Throwable what the method threw, now or (if final) when it first ran; or an
	 * {@link io.github.idempotency.IdempotencyException} when it did not run. Returned in
	 * a failed future instead (but for an {@link Error}), for a method declared to return
	 * a {@link CompletableFuture} that the {@linkplain RefusalTranslator#failsFuture
	 * refusal translator} says fails its future
	 */
	public @Nullable Object invoke(MethodInvocation invocation, IdempotentOperation operation, Class<?> targetClass)
			throws Throwable {
		Method method = invocation.getMethod();
		Target target = this.targets.computeIfAbsent(new MethodClassKey(method, targetClass),
				(key) -> new Target(method, targetClass, operation, this.completeInTransaction, this.refusals));
		if (target.failsFuture) {
			try {
				return call(invocation, operation, target, null);
			}
			catch (Error ex) {
				throw ex;
			}
			catch (Throwable ex) {
				return CompletableFuture.failedFuture(ex);
			}
		}
		return call(invocation, operation, target, null);
	}

	private @Nullable Object call(MethodInvocation invocation, IdempotentOperation operation, Target target,
			@Nullable Again previous) throws Throwable {
		Object[] arguments = invocation.getArguments();
		String recordKey;
		String fingerprint;
		// Made again under the first call's key and fingerprint, whatever its work did
		// to the arguments.
		if (previous != null) {
			recordKey = previous.recordKey();
			fingerprint = previous.fingerprint();
		}
		else {
			String key;
			try {
				key = key(operation, target, arguments);
			}
			catch (InvalidIdempotencyKeyException ex) {
				throw this.refusals.translate(ex, target.method);
			}
			if (key == null) {
				this.lifecycle.record(target.tag, IdempotencyOutcome.BYPASSED);
				return invocation.proceed();
			}
			fingerprint = fingerprint(operation, target.method, arguments);
			recordKey = Hashing.recordKey(target.scope, key);
		}
		target.findWhetherTransactionAdviceRunsFirst(invocation);
		Decision decision = (target.inTransactionAroundCall()) ? Transactions.pending(recordKey, fingerprint,
				this.lifecycle, operation, target.tag, target.waitsForTransaction()) : null;
		if (decision instanceof Decision.Replay || decision instanceof Decision.Mismatch) {
			this.lifecycle.record(target.tag,
					(decision instanceof Decision.Replay) ? IdempotencyOutcome.REPLAYED : IdempotencyOutcome.MISMATCH);
		}
		else if (decision == null) {
			decision = this.lifecycle.begin(operation, target.tag, recordKey, fingerprint);
		}
		if (decision instanceof Decision.Proceed proceed) {
			if (this.transactionAdvice != null && target.completeInTransaction && target.opensOwnTransaction
					&& !Transactions.active() && target.transactionAdviceNext(invocation, this.transactionAdvice)) {
				return runInOwnTransaction(this.transactionAdvice, invocation, operation, target, proceed.claim());
			}
			Again again = (previous != null) ? previous : Again.possible(invocation, target, recordKey, fingerprint);
			return run(invocation, operation, target, proceed.claim(), again, previous != null);
		}
		if (decision instanceof Decision.Replay replay) {
			try {
				return replay(replay.response(), operation, target, recordKey);
			}
			catch (UnreadableRecordException | IdempotentResultNotKeptException ex) {
				throw this.refusals.translate(ex, target.method);
			}
		}
		if (decision instanceof Decision.Unprotected) {
			return proceed(invocation, previous != null);
		}
		if (decision instanceof Decision.InProgress) {
			throw this.refusals.translate(
					new IdempotentCallInProgressException(
							"A call of " + operation.name() + " with this key is still running; retry it later"),
					target.method);
		}
		if (decision instanceof Decision.Mismatch) {
			throw this.refusals.translate(new IdempotencyKeyReusedException("The key of this call of "
					+ operation.name() + " was already used for a call with other arguments; it was not run"),
					target.method);
		}
		Decision.Unavailable unavailable = (Decision.Unavailable) decision;
		if (unavailable.failure() instanceof UnreadableRecordException unreadable) {
			throw this.refusals.translate(unreadable, target.method);
		}
		throw this.refusals.translate(new IdempotencyStoreException(
				"The idempotency store cannot be reached; " + operation.name() + " was not run. Retry it later.",
				unavailable.failure()), target.method);
	}

	private @Nullable String key(IdempotentOperation operation, Target target, Object[] arguments) {
		String expression = operation.keyExpression();
		String key;
		try {
			key = (expression != null) ? this.expressions.evaluate(expression, target.method, arguments) : null;
		}
		catch (EvaluationException ex) {
			this.lifecycle.record(target.tag, IdempotencyOutcome.INVALID);
			throw new InvalidIdempotencyKeyException(operation.name() + " was called without a usable key: '"
					+ expression + "' failed: " + ex.getMessage());
		}
		if (key == null) {
			if (!operation.required()) {
				return null;
			}
			this.lifecycle.record(target.tag, IdempotencyOutcome.MISSING);
			throw new InvalidIdempotencyKeyException(
					operation.name() + " was called without a key: '" + expression + "' gave null");
		}
		try {
			return this.keyParser.check(key);
		}
		catch (IdempotencyKeyParser.InvalidKeyException ex) {
			this.lifecycle.record(target.tag, IdempotencyOutcome.INVALID);
			throw new InvalidIdempotencyKeyException(
					operation.name() + " was called with an unusable key. " + ex.getMessage());
		}
	}

	private String fingerprint(IdempotentOperation operation, Method method, Object[] arguments) {
		String expression = operation.fingerprintExpression();
		byte[] json;
		try {
			json = (expression != null)
					? this.codec.writeForFingerprint(this.expressions.value(expression, method, arguments), ANY)
					: this.codec.writeForFingerprint(arguments, ARGUMENTS);
		}
		catch (IllegalArgumentException | EvaluationException ex) {
			throw new IllegalStateException("The arguments of " + operation.name() + " cannot be fingerprinted ("
					+ ex.getMessage() + "); name what makes two calls the same with @Idempotent(fingerprint = \"...\")",
					ex);
		}
		MessageDigest digest = Hashing.sha256();
		digest.update(canonical(json));
		return Hashing.hex(digest.digest());
	}

	// JSON that cannot be put in canonical form (a member the mapper wrote twice, as
	// Jackson does for a property that an any-getter's map names too; a document past the
	// parser's limits) is compared as the mapper wrote it, which for the same arguments
	// it writes the same way.
	private byte[] canonical(byte[] json) {
		try {
			return this.canonicalizer.canonicalize(json);
		}
		catch (IllegalArgumentException ex) {
			return json;
		}
	}

	private @Nullable Object runInOwnTransaction(MethodInterceptor transactionAdvice, MethodInvocation invocation,
			IdempotentOperation operation, Target target, Claim claim) throws Throwable {
		AtomicBoolean ran = new AtomicBoolean();
		try {
			return transactionAdvice.invoke(new Within(invocation, () -> {
				ran.set(true);
				return run(invocation, operation, target, claim, null, false);
			}));
		}
		catch (Throwable ex) {
			// The transaction could not even begin: the method never ran.
			if (!ran.get()) {
				claim.release();
			}
			throw ex;
		}
	}

	private @Nullable Object run(MethodInvocation invocation, IdempotentOperation operation, Target target, Claim claim,
			@Nullable Again again, boolean madeAgain) throws Throwable {
		Object result;
		OwnTransactionListener.Watch transaction = (target.beginsOwnTransaction
				&& (target.requiresNew ? !Boolean.TRUE.equals(target.transactionAdviceFirst) : !Transactions.active()))
						? OwnTransactionListener.watch() : null;
		try {
			result = proceed(invocation, madeAgain);
		}
		catch (Throwable ex) {
			// Unless the method makes every such exception final: kept, it never runs
			// again, which is what its author asked for.
			if (transaction != null && transaction.commitOutcomeUnknown(ex) && !isFinal(operation, ex)) {
				Transactions.holdUntilLeaseEnds(claim);
				throw ex;
			}
			failed(claim, operation, target, ex, target.async);
			throw translatedIfNotRun(ex, target);
		}
		finally {
			if (transaction != null) {
				transaction.close();
			}
		}
		if (target.async && result instanceof CompletionStage<?> stage) {
			// The caller gets its own copy: cancelling it, or completing it with a
			// fallback, touches neither the work nor what is kept of it. The copy
			// completes once the outcome is kept, so that what the caller does next
			// (change the value, or commit a message's offset) comes after.
			CompletableFuture<Object> copy = (again != null) ? again.copy() : new CompletableFuture<>();
			// Followed as a stage: one that is not a CompletableFuture may refuse
			// toCompletableFuture(), as CompletionStage allows.
			stage.whenComplete((value, failure) -> {
				try {
					settled(claim, operation, target, value, failure);
				}
				finally {
					if (failure == null) {
						copy.complete(value);
					}
					// Cancelled as the work was, for callers that ask isCancelled().
					else if (failure instanceof CancellationException) {
						copy.cancel(false);
					}
					else {
						fail(copy, failure, null, operation, target, again);
					}
				}
			});
			return target.copyableFuture ? copy : result;
		}
		returned(claim, operation, target, result);
		return result;
	}

	// Made again on another thread than the proxy's, where AspectJ advice inside this one
	// looks for the invocation it advises.
	private static @Nullable Object proceed(MethodInvocation invocation, boolean madeAgain) throws Throwable {
		return madeAgain ? ExposeInvocationInterceptor.INSTANCE.invoke(invocation) : invocation.proceed();
	}

	private void settled(Claim claim, IdempotentOperation operation, Target target, @Nullable Object value,
			@Nullable Throwable failure) {
		Throwable cause = (failure instanceof CompletionException && failure.getCause() != null) ? failure.getCause()
				: failure;
		if (failure == null) {
			returned(claim, operation, target, value);
		}
		// Cancelled, or a stage of work that was.
		else if (cause instanceof CancellationException) {
			// Cancelling a future does not stop the work that would complete it: its end
			// is unknown, so the key is held until its lease runs out.
			claim.stopRenewal();
			logger.warn("The future " + operation.name() + " returned was cancelled; its key stays claimed until the"
					+ " lock timeout passes, as the work behind it may still run");
		}
		// Given up on by a time limit (orTimeout, Resilience4j's @TimeLimiter), which
		// stops nothing either; unless the method says such a failure is final.
		else if (cause instanceof TimeoutException
				&& operation.finalExceptions().stream().noneMatch((type) -> type.isInstance(cause))) {
			claim.stopRenewal();
			logger.warn("The future " + operation.name() + " returned timed out; its key stays claimed until the"
					+ " lock timeout passes, as the work behind it may still run");
		}
		else {
			failed(claim, operation, target, cause, false);
		}
	}

	private void returned(Claim claim, IdempotentOperation operation, Target target, @Nullable Object value) {
		byte[] json;
		try {
			json = this.codec.write(target.voidResult ? null : value, target.valueType);
			// Kept, a record of any size would weigh on every read of its key, and a
			// store may refuse it at each completion (MariaDB, past max_allowed_packet).
			if (json.length > this.maxResultSize) {
				logger.warn(operation.name() + " returned a value of " + json.length + " bytes as JSON, more than"
						+ " idempotency.max-result-size (" + this.maxResultSize + " bytes); it was returned, and"
						+ " retries with its key throw IdempotentResultNotKeptException rather than run it again");
				keep(claim, NOT_KEPT_OUTCOME, target, true);
				return;
			}
			// Read back at once: a value that writes but does not read (no creator, an
			// abstract field) would fail every replay instead.
			warnIfReplayedAsAnother(operation, target, value, this.codec.read(json, target.valueType));
		}
		// What ResultCodec promises, or anything else an application's codec throws: the
		// method did its work, and running it again for a retry would do it twice.
		catch (RuntimeException ex) {
			String message = operation.name() + " returned a value that cannot be kept as JSON (" + ex.getMessage()
					+ "); it was returned, and retries with its key throw IdempotentResultNotKeptException rather"
					+ " than run it again. Return a type the application's JSON mapper writes and reads back.";
			if (ex instanceof IllegalArgumentException) {
				logger.warn(message);
			}
			else {
				logger.warn(message, ex);
			}
			keep(claim, NOT_KEPT_OUTCOME, target, true);
			return;
		}
		keep(claim, new StoredResponse(RETURNED, JSON, json), target, true);
	}

	// A value read back as another class than the one returned (a subclass of the
	// declared type, a Long where Number is declared) is replayed as that class: said
	// once per method, at the first call, rather than found by a replay. Collections,
	// maps and optionals are made as the declared type says, whatever class was returned.
	private static void warnIfReplayedAsAnother(IdempotentOperation operation, Target target, @Nullable Object value,
			@Nullable Object readBack) {
		if (value == null || readBack == null || value.getClass() == readBack.getClass() || value instanceof Collection
				|| value instanceof Map || value instanceof Optional || target.toldOfReplayedClass) {
			return;
		}
		target.toldOfReplayedClass = true;
		logger.warn(operation.name() + " returned a " + value.getClass().getName() + ", which its replays return as a "
				+ readBack.getClass().getName() + ", read back as the " + target.valueType + " it declares. Declare"
				+ " the type it returns, or a type whose JSON names its subtype (@JsonTypeInfo)");
	}

	private void failed(Claim claim, IdempotentOperation operation, Target target, Throwable failure,
			boolean thrownEarly) {
		// A refusal from an idempotent call inside (a duplicate in progress, a store that
		// did not answer) says nothing lasting about this call, however broad the final
		// exceptions: kept, it would be replayed for the whole retention. Also when it
		// comes wrapped (by the future an inner call was awaited through, say).
		if (!isFinal(operation, failure)) {
			release(claim, target);
			return;
		}
		byte[] message;
		try {
			message = this.codec.write(failure.getMessage(), MESSAGE);
		}
		// An application's codec that fails on the message: the call ended for good, and
		// must not run again, nor its own exception be lost to the codec's.
		catch (RuntimeException ex) {
			logger.warn(operation.name() + " threw a " + failure.getClass().getName() + " whose message cannot be"
					+ " kept as JSON; retries with its key throw IdempotentResultNotKeptException rather than run it"
					+ " again", ex);
			keep(claim, NOT_KEPT_OUTCOME, target, false);
			return;
		}
		if (message.length > this.maxResultSize) {
			logger.warn(operation.name() + " threw a " + failure.getClass().getName() + " whose message is "
					+ message.length + " bytes as JSON, more than idempotency.max-result-size (" + this.maxResultSize
					+ " bytes); it is kept without its message, and retries with its key throw it again without one");
			message = this.codec.write(null, MESSAGE);
		}
		StoredResponse outcome = new StoredResponse(THREW,
				thrownEarly
						? Map.of(EXCEPTION_TYPE, List.of(failure.getClass().getName()), THROWN_EARLY, List.of("true"))
						: Map.of(EXCEPTION_TYPE, List.of(failure.getClass().getName())),
				message);
		keep(claim, outcome, target, false);
	}

	// A call inside that met its duplicate in progress leaves this call unfinished as
	// surely as its own such refusal would: its caller (a listener container that would
	// otherwise drop the message) is told the same way.
	private Throwable translatedIfNotRun(Throwable failure, Target target) {
		IdempotentCallInProgressException inProgress = innerCallInProgress(failure);
		return (inProgress != null)
				? translated(failure, inProgress, this.refusals.translate(inProgress, target.method)) : failure;
	}

	// The same for the work behind a future, whose pause before the future fails, or
	// before the call is made again, holds up no thread: the one that completed the work
	// may be the application's pool's.
	private void fail(CompletableFuture<Object> copy, Throwable failure, @Nullable IdempotencyException notRun,
			IdempotentOperation operation, Target target, @Nullable Again again) {
		@Nullable CompletionStage<?> callAgain = null;
		@Nullable CompletionStage<Throwable> translation = null;
		@Nullable IdempotentCallInProgressException inProgress;
		try {
			inProgress = innerCallInProgress(failure);
			IdempotencyException refusal = (notRun != null) ? notRun : inProgress;
			if (refusal != null && again != null) {
				callAgain = this.refusals.callAgainLater(refusal, target.method);
			}
			if (inProgress != null && callAgain == null) {
				translation = this.refusals.translateLater(inProgress, target.method);
			}
		}
		// A translator that fails leaves the failure as it is, rather than the copy
		// never completed, and the message behind it never settled.
		catch (Throwable ex) {
			addSuppressed(failure, ex);
			copy.completeExceptionally(completionException(failure));
			if (ex instanceof VirtualMachineError error) {
				throw error;
			}
			return;
		}
		if (callAgain != null) {
			Again madeAgain = again;
			Thread asking = Thread.currentThread();
			AtomicBoolean asked = new AtomicBoolean();
			callAgain.whenComplete((ignored, givenUp) -> {
				// Complete before it was asked to call back, the stage would have the
				// call made again on this thread, and again, as deep as the duplicate
				// lasts: it is made on another.
				if (givenUp == null && Thread.currentThread() == asking && !asked.get()) {
					CompletableFuture.runAsync(() -> callAgain(madeAgain, operation, target));
				}
				else if (givenUp == null) {
					callAgain(madeAgain, operation, target);
				}
				else {
					addSuppressed(failure, givenUp);
					copy.completeExceptionally(completionException(failure));
				}
			});
			asked.set(true);
			return;
		}
		if (translation == null) {
			copy.completeExceptionally(completionException(failure));
			return;
		}
		translation.whenComplete((translated, translatorFailed) -> {
			Throwable reason = (translated != null) ? translated(failure, inProgress, translated) : failure;
			addSuppressed(reason, translatorFailed);
			copy.completeExceptionally(completionException(reason));
		});
	}

	// From a copy of the first invocation, made at the idempotency advice before it
	// proceeded: what the advice inside this one does runs again, what the advice around
	// it did does not. What it ends with completes the future the first call returned.
	private void callAgain(Again again, IdempotentOperation operation, Target target) {
		// Its caller gave up on it meanwhile (cancelled it, or completed it with a
		// fallback).
		if (again.copy().isDone()) {
			return;
		}
		if (logger.isDebugEnabled()) {
			logger.debug("Calling " + operation.name() + " again, as the refusal translator asked after its last"
					+ " call was not run through");
		}
		Object result;
		try {
			result = call(again.invocation().invocableClone(), operation, target, again);
		}
		catch (Throwable ex) {
			// Its own duplicate in progress (another delivery of the message), the
			// duplicate inside met again before a future was returned, or a store that
			// did not answer, as for a message the store could not check.
			IdempotencyException notRun = (ex instanceof IdempotencyStoreException unavailable
					&& !(ex instanceof UnreadableRecordException)
					&& !(ex instanceof IdempotentOutcomeNotStoredException)) ? unavailable : null;
			fail(again.copy(), ex, notRun, operation, target, again);
			if (ex instanceof VirtualMachineError error) {
				throw error;
			}
			return;
		}
		if (result == again.copy()) {
			return;
		}
		// A replay, or the future of a call the store let run unprotected.
		if (result instanceof CompletionStage<?> stage) {
			stage.whenComplete((value, failure) -> {
				if (failure == null) {
					again.copy().complete(value);
				}
				else {
					again.copy().completeExceptionally(completionException(failure));
				}
			});
		}
		else {
			again.copy().complete(result);
		}
	}

	private static void addSuppressed(Throwable failure, @Nullable Throwable suppressed) {
		if (suppressed != null && suppressed != failure) {
			failure.addSuppressed(suppressed);
		}
	}

	private static Throwable translated(Throwable failure, IdempotentCallInProgressException inProgress,
			Throwable translated) {
		if (translated == inProgress) {
			return failure;
		}
		if (failure != inProgress) {
			addSuppressed(translated, failure);
		}
		return translated;
	}

	// Wrapped as a dependent future's failure is, as the work's was.
	private static CompletionException completionException(Throwable failure) {
		return (failure instanceof CompletionException completion) ? completion : new CompletionException(failure);
	}

	// Not where the method chose what to throw for it itself, nor behind a store failure,
	// which may be one that recurs on every delivery (a completion's commit) rather than
	// one that passes.
	private @Nullable IdempotentCallInProgressException innerCallInProgress(Throwable failure) {
		// Bounded: causes may form a cycle.
		Throwable cause = failure;
		for (int depth = 0; cause != null && depth < 32; depth++, cause = cause.getCause()) {
			if (cause instanceof IdempotentCallInProgressException inProgress) {
				return inProgress;
			}
			if (cause instanceof IdempotencyException || this.refusals.isTranslated(cause)) {
				return null;
			}
		}
		return null;
	}

	private static boolean isFinal(IdempotentOperation operation, Throwable failure) {
		return !causedByRefusal(failure)
				&& operation.finalExceptions().stream().anyMatch((type) -> type.isInstance(failure));
	}

	private static boolean causedByRefusal(Throwable failure) {
		// Bounded: causes may form a cycle.
		Throwable cause = failure;
		for (int depth = 0; cause != null && depth < 32; depth++, cause = cause.getCause()) {
			if (cause instanceof IdempotencyException) {
				return true;
			}
		}
		return false;
	}

	// Inside the caller's transaction, the outcome counts only once it has committed:
	// rolled back, the call must be able to run again. Outcomes that are final whatever
	// happened to the transaction (a final exception) are kept either way. A method that
	// starts a transaction of its own, one told to keep its outcome on return, or an
	// outcome a future delivers, does not wait for the caller's.
	private static void keep(Claim claim, StoredResponse outcome, Target target, boolean onlyIfCommitted) {
		if (target.waitsForTransaction()
				&& Transactions.afterCompletion(claim, outcome, onlyIfCommitted, target.completeInTransaction)) {
			return;
		}
		claim.complete(outcome);
	}

	// Inside the caller's transaction, released only once it ends: until then its writes
	// may still commit, and a retry must not run alongside.
	private static void release(Claim claim, Target target) {
		if (target.waitsForTransaction() && Transactions.afterCompletion(claim, null, true, false)) {
			return;
		}
		claim.release();
	}

	private @Nullable Object replay(StoredResponse outcome, IdempotentOperation operation, Target target,
			String recordKey) throws Throwable {
		if (outcome.headers().containsKey(RESULT)) {
			throw new IdempotentResultNotKeptException("A call of " + operation.name() + " with this key already ran,"
					+ " but its result could not be kept; it is not run again");
		}
		List<String> exceptionType = outcome.headers().get(EXCEPTION_TYPE);
		if (exceptionType != null) {
			Throwable failure = rebuild(exceptionType.get(0), outcome.body(), operation, recordKey);
			// Failed as the first call's future was, for callers that look at the failure
			// itself (exceptionally, handle) rather than get its cause.
			if (target.async && !outcome.headers().containsKey(THROWN_EARLY)) {
				return CompletableFuture.failedFuture(completionException(failure));
			}
			throw failure;
		}
		Object value;
		try {
			value = target.voidResult ? null : this.codec.read(outcome.body(), target.valueType);
		}
		// What ResultCodec promises, or anything else an application's codec throws.
		catch (RuntimeException ex) {
			throw new UnreadableRecordException(recordKey, "the kept result of " + operation.name()
					+ " cannot be read as " + target.valueType + " (did the return type change?): " + ex.getMessage()
					+ ". Delete the record (the idempotency Actuator endpoint does) or wait for its retention to pass",
					ex);
		}
		return target.async ? CompletableFuture.completedFuture(value) : value;
	}

	private Throwable rebuild(String typeName, byte[] message, IdempotentOperation operation, String recordKey) {
		// Only a type the operation names final, or a subclass of one, is ever made: a
		// record names a class, and no record gets to choose what is instantiated.
		Class<? extends Throwable> declared = null;
		Class<?> kept = null;
		for (Class<? extends Throwable> type : operation.finalExceptions()) {
			Class<?> candidate = type.getName().equals(typeName) ? type : load(typeName, type);
			if (candidate != null && type.isAssignableFrom(candidate)) {
				declared = type;
				kept = candidate;
				break;
			}
		}
		if (declared == null) {
			throw new UnreadableRecordException(recordKey,
					"it keeps a " + typeName + ", which is not among the final exceptions of " + operation.name()
							+ " (did the annotation change?). Delete the record (the"
							+ " idempotency Actuator endpoint does) or wait for its retention to pass",
					null);
		}
		Object text;
		try {
			text = this.codec.read(message, MESSAGE);
		}
		catch (RuntimeException ex) {
			throw new UnreadableRecordException(recordKey,
					"the message of the " + typeName + " it keeps cannot be read: " + ex.getMessage()
							+ ". Delete the record (the idempotency Actuator endpoint does) or"
							+ " wait for its retention to pass",
					ex);
		}
		Throwable rebuilt = instantiate(kept.asSubclass(Throwable.class), text);
		return (rebuilt != null) ? rebuilt : instantiate(declared, text);
	}

	private static @Nullable Class<?> load(String name, Class<?> near) {
		try {
			return ClassUtils.forName(name, near.getClassLoader());
		}
		catch (ClassNotFoundException | LinkageError ex) {
			return null;
		}
	}

	private static @Nullable Throwable instantiate(Class<? extends Throwable> type, @Nullable Object message) {
		Constructor<? extends Throwable> withMessage = ClassUtils.getConstructorIfAvailable(type, String.class);
		if (withMessage != null) {
			return BeanUtils.instantiateClass(withMessage, message);
		}
		Constructor<? extends Throwable> bare = ClassUtils.getConstructorIfAvailable(type);
		return (bare != null) ? BeanUtils.instantiateClass(bare) : null;
	}

	/**
	 * What the invoker needs to know of one method on one class, worked out once.
	 */
	private static final class Target {

		// The implementation's method, whose parameter names the expressions see and
		// whose return type is kept, whatever interface or bridge the call came through.
		private final Method method;

		private final String scope;

		private final String tag;

		private final boolean async;

		// Whether what a call throws goes to its caller in a failed future.
		private final boolean failsFuture;

		private final boolean copyableFuture;

		private final boolean voidResult;

		private final ResolvableType valueType;

		// Whether its calls are made in the caller's transaction, whose pending
		// outcomes answer them.
		private final boolean inCallerTransaction;

		// Whether its outcome waits for the caller's transaction.
		private final boolean joinsCallerTransaction;

		private final boolean opensOwnTransaction;

		private final boolean beginsNewTransaction;

		// Whether a call begins a transaction of its own, whose commit it follows: made
		// outside any transaction, or, for REQUIRES_NEW, inside one too.
		private final boolean beginsOwnTransaction;

		private final boolean requiresNew;

		// Whether the transaction advice that begins the method's own transaction runs
		// before the idempotency advice (an application that ordered it so): that
		// transaction is then the one around its call, which its outcome waits for, as a
		// call in the caller's transaction does. Null until the first call.
		private volatile @Nullable Boolean transactionAdviceFirst;

		private final boolean completeInTransaction;

		// Whether a replay's class other than the returned value's was told of.
		private volatile boolean toldOfReplayedClass;

		// Whether the transaction advice comes right after the idempotency advice on this
		// method; null until the first call that asks.
		private volatile @Nullable Boolean transactionAdviceNext;

		Target(Method method, Class<?> targetClass, IdempotentOperation operation, boolean completeInTransaction,
				RefusalTranslator refusals) {
			Class<?> userClass = MethodOwners.ownerOf(method, targetClass);
			this.method = BridgeMethodResolver.findBridgedMethod(MethodOwners.declaredMethod(method, userClass));
			// With the parameter types, so that overloads keep records apart, and the
			// consumer, so that each consumer of a message processes it.
			this.scope = (operation.scope() != null) ? operation.scope()
					: ((operation.consumer() != null) ? operation.consumer() + ' ' : "") + userClass.getName() + '#'
							+ this.method.getName()
							+ Arrays.stream(this.method.getParameterTypes())
								.map(Class::getName)
								.collect(Collectors.joining(",", "(", ")"));
			this.tag = (operation.scope() != null) ? operation.scope()
					: userClass.getSimpleName() + '#' + this.method.getName();
			ResolvableType returnType = ResolvableType.forMethodReturnType(this.method, userClass);
			Class<?> returnClass = returnType.toClass();
			this.async = CompletionStage.class.isAssignableFrom(returnClass);
			// Spring AMQP settles a listener's message by its future only when the method
			// is declared to return a CompletableFuture.
			this.failsFuture = CompletableFuture.class.isAssignableFrom(returnClass)
					&& refusals.failsFuture(this.method);
			this.copyableFuture = returnClass == CompletableFuture.class || returnClass == CompletionStage.class;
			ResolvableType valueType = this.async ? returnType.as(CompletionStage.class).getGeneric(0) : returnType;
			Class<?> valueClass = valueType.toClass();
			this.voidResult = valueClass == void.class || valueClass == Void.class;
			this.valueType = this.voidResult ? ANY : valueType;
			this.inCallerTransaction = TRANSACTIONS_PRESENT && !this.async
					&& Transactions.joinsCaller(this.method, method);
			this.joinsCallerTransaction = this.inCallerTransaction
					&& operation.completion() != IdempotentOperation.Completion.ON_RETURN;
			this.opensOwnTransaction = TRANSACTIONS_PRESENT && !this.async
					&& Transactions.opensOwn(this.method, method);
			this.beginsNewTransaction = TRANSACTIONS_PRESENT && !this.async
					&& operation.completion() != IdempotentOperation.Completion.ON_RETURN
					&& Transactions.beginsNew(this.method, method);
			this.requiresNew = TRANSACTIONS_PRESENT && !this.async && Transactions.beginsNew(this.method, method);
			this.beginsOwnTransaction = this.opensOwnTransaction || this.requiresNew;
			this.completeInTransaction = (operation.completion() != null)
					? operation.completion() == IdempotentOperation.Completion.IN_TRANSACTION : completeInTransaction;
		}

		/**
		 * Whether its calls are made in the transaction active around them, whose pending
		 * outcomes answer them: the caller's, or one the method begins itself behind
		 * transaction advice that runs first.
		 */
		boolean inTransactionAroundCall() {
			return this.inCallerTransaction || Boolean.TRUE.equals(this.transactionAdviceFirst);
		}

		/**
		 * Whether its outcome waits for the transaction active around its call.
		 */
		boolean waitsForTransaction() {
			return this.joinsCallerTransaction || Boolean.TRUE.equals(this.transactionAdviceFirst);
		}

		void findWhetherTransactionAdviceRunsFirst(MethodInvocation invocation) {
			if (this.beginsNewTransaction && this.transactionAdviceFirst == null) {
				this.transactionAdviceFirst = AdviceChain.transactionAdviceFirst(invocation);
			}
		}

		/**
		 * Whether the transaction may be begun right after the claim, without moving
		 * other advice into it: advice between the two (a retry, say) would otherwise run
		 * every attempt in one transaction, which the first failure marks rollback-only.
		 */
		boolean transactionAdviceNext(MethodInvocation invocation, MethodInterceptor transactionAdvice) {
			Boolean next = this.transactionAdviceNext;
			if (next == null) {
				String between = AdviceChain.between(invocation, transactionAdvice);
				next = between == null;
				if (!next) {
					logger.warn(this.tag + " is @Transactional, but " + between + " runs between its idempotency"
							+ " advice and its transaction; its outcome is stored once the transaction has committed,"
							+ " not within it");
				}
				this.transactionAdviceNext = next;
			}
			return next;
		}

	}

	/**
	 * What a call is made again from: a copy of its invocation, made at the idempotency
	 * advice before it proceeded (an invocation proceeds once, a copy of it once more),
	 * the first call's key and fingerprint, and the future the first call returned, which
	 * the call made again completes.
	 */
	private record Again(ProxyMethodInvocation invocation, String recordKey, String fingerprint,
			CompletableFuture<Object> copy) {

		/**
		 * For a call that returns a future its caller gets a copy of, through a proxy.
		 */
		static @Nullable Again possible(MethodInvocation invocation, Target target, String recordKey,
				String fingerprint) {
			if (!target.copyableFuture || !(invocation instanceof ProxyMethodInvocation proxied)) {
				return null;
			}
			return new Again((ProxyMethodInvocation) proxied.invocableClone(), recordKey, fingerprint,
					new CompletableFuture<>());
		}

	}

	/**
	 * Reads the advice chain of the proxy a call came through.
	 */
	private static final class AdviceChain {

		/**
		 * What applies to the called method between the idempotency advice and the
		 * transaction advice, or {@code null} when nothing does.
		 */
		static @Nullable String between(MethodInvocation invocation, MethodInterceptor transactionAdvice) {
			if (!(invocation instanceof ProxyMethodInvocation proxied)
					|| !(proxied.getProxy() instanceof Advised advised) || invocation.getThis() == null) {
				return "an unknown advice chain";
			}
			Class<?> targetClass = AopUtils.getTargetClass(invocation.getThis());
			Advisor[] advisors = advised.getAdvisors();
			int ours = -1;
			for (int i = 0; i < advisors.length; i++) {
				org.aopalliance.aop.Advice advice = advisors[i].getAdvice();
				if (advice instanceof IdempotencyInterceptor) {
					ours = i;
				}
				else if (advice == transactionAdvice) {
					return (ours >= 0) ? null : "the transaction advice, which runs first,";
				}
				else if (ours >= 0 && applies(advisors[i], invocation.getMethod(), targetClass)) {
					return advice.getClass().getName();
				}
			}
			return "a transaction advice other than the application's";
		}

		/**
		 * Whether the new transaction of the called method is begun by transaction advice
		 * that runs before the idempotency advice, and none after it begins another, in
		 * which the method's writes would commit before its outcome is kept.
		 */
		static boolean transactionAdviceFirst(MethodInvocation invocation) {
			if (!(invocation instanceof ProxyMethodInvocation proxied)
					|| !(proxied.getProxy() instanceof Advised advised) || invocation.getThis() == null) {
				return false;
			}
			Class<?> targetClass = AopUtils.getTargetClass(invocation.getThis());
			boolean before = false;
			boolean ours = false;
			for (Advisor advisor : advised.getAdvisors()) {
				if (advisor.getAdvice() instanceof IdempotencyInterceptor) {
					ours = true;
				}
				else if (applies(advisor, invocation.getMethod(), targetClass)
						&& Transactions.adviceBeginsNew(advisor.getAdvice(), invocation.getMethod(), targetClass)) {
					if (ours) {
						return false;
					}
					before = true;
				}
			}
			return before && ours;
		}

		private static boolean applies(Advisor advisor, Method method, Class<?> targetClass) {
			if (advisor instanceof PointcutAdvisor pointcutAdvisor) {
				Pointcut pointcut = pointcutAdvisor.getPointcut();
				return pointcut.getClassFilter().matches(targetClass)
						&& pointcut.getMethodMatcher().matches(method, targetClass);
			}
			return !(advisor instanceof IntroductionAdvisor);
		}

	}

	/**
	 * The call as the transaction advice sees it: the same method, target and arguments,
	 * but proceeding runs the rest of the idempotency advice.
	 */
	private static final class Within implements MethodInvocation {

		private final MethodInvocation invocation;

		private final Body body;

		Within(MethodInvocation invocation, Body body) {
			this.invocation = invocation;
			this.body = body;
		}

		@Override
		public Method getMethod() {
			return this.invocation.getMethod();
		}

		@Override
		public Object[] getArguments() {
			return this.invocation.getArguments();
		}

		@Override
		public @Nullable Object proceed() throws Throwable {
			return this.body.run();
		}

		@Override
		public @Nullable Object getThis() {
			return this.invocation.getThis();
		}

		@Override
		public AccessibleObject getStaticPart() {
			return this.invocation.getStaticPart();
		}

		interface Body {

			@Nullable Object run() throws Throwable;

		}

	}

	/**
	 * Defers completion or release to the end of the caller's transaction; loaded only
	 * where Spring's transaction support is on the class path.
	 */
	private static final class Transactions {

		// Propagations under which a method's writes are not the caller's transaction's.
		private static final Set<String> OWN_TRANSACTION = Set.of("REQUIRES_NEW", "NOT_SUPPORTED", "NEVER");

		private static final String TRANSACTIONAL = "org.springframework.transaction.annotation.Transactional";

		// Which Spring honours too; its TxType names the propagations as Spring does.
		private static final String JTA_TRANSACTIONAL = "jakarta.transaction.Transactional";

		static boolean joinsCaller(Method method, Method called) {
			String propagation = propagation(method, called);
			return propagation == null || !OWN_TRANSACTION.contains(propagation);
		}

		// A method that always begins a transaction of its own.
		static boolean beginsNew(Method method, Method called) {
			return "REQUIRES_NEW".equals(propagation(method, called));
		}

		// Asked of the advice itself: another transaction advice in front (one applying
		// REQUIRED to every method, say) begins no transaction of the method's own.
		static boolean adviceBeginsNew(org.aopalliance.aop.Advice advice, Method method, Class<?> targetClass) {
			if (!(advice instanceof TransactionInterceptor transactionAdvice)
					|| transactionAdvice.getTransactionAttributeSource() == null) {
				return false;
			}
			TransactionAttribute attribute = transactionAdvice.getTransactionAttributeSource()
				.getTransactionAttribute(method, targetClass);
			return attribute != null
					&& attribute.getPropagationBehavior() == TransactionDefinition.PROPAGATION_REQUIRES_NEW;
		}

		// A method that begins a transaction when called outside one, and joins the
		// caller's otherwise.
		static boolean opensOwn(Method method, Method called) {
			return "REQUIRED".equals(propagation(method, called));
		}

		// Read as Spring's transaction advice reads them: the method's annotation, then
		// that of the class that declares it (not of a subclass that inherits it), then
		// the same for the method called (an interface's); on each, Spring's before
		// Jakarta's. Only the propagation is read, so nothing else in the annotation (a
		// placeholder) is resolved here.
		private static @Nullable String propagation(Method method, Method called) {
			String propagation = propagation(method);
			if (propagation == null && !called.equals(method)) {
				propagation = propagation(called);
			}
			return propagation;
		}

		private static @Nullable String propagation(Method method) {
			String propagation = propagation(method, SearchStrategy.DIRECT);
			return (propagation != null) ? propagation
					: propagation(method.getDeclaringClass(), SearchStrategy.INHERITED_ANNOTATIONS);
		}

		private static @Nullable String propagation(AnnotatedElement element, SearchStrategy jakartaSearch) {
			MergedAnnotation<?> spring = MergedAnnotations.from(element, SearchStrategy.TYPE_HIERARCHY)
				.get(TRANSACTIONAL);
			if (spring.isPresent()) {
				return spring.getEnum("propagation", Propagation.class).name();
			}
			MergedAnnotation<?> jakarta = MergedAnnotations.from(element, jakartaSearch).get(JTA_TRANSACTIONAL);
			return jakarta.isPresent() ? jakarta.getValue("value").map((type) -> ((Enum<?>) type).name()).orElse(null)
					: null;
		}

		static boolean active() {
			return TransactionSynchronizationManager.isActualTransactionActive();
		}

		/**
		 * @param outcome the outcome to keep, or {@code null} to release the claim
		 * @param withinTransaction whether to keep it within the transaction, where the
		 * store can
		 * @return {@code false} if there is no transaction to wait for
		 */
		static boolean afterCompletion(Claim claim, @Nullable StoredResponse outcome, boolean onlyIfCommitted,
				boolean withinTransaction) {
			if (!TransactionSynchronizationManager.isActualTransactionActive()
					|| !TransactionSynchronizationManager.isSynchronizationActive()) {
				return false;
			}
			Pending pending = PendingOutcomes.current().add(claim, outcome, onlyIfCommitted);
			if (outcome != null && withinTransaction && claim.completesInCurrentTransaction()) {
				keepWithinTransaction(pending, outcome);
				return true;
			}
			TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
				@Override
				public void afterCompletion(int status) {
					if (pending.undone) {
						return;
					}
					if (status == STATUS_UNKNOWN) {
						holdUntilLeaseEnds(pending.claim);
					}
					else if (outcome != null && (status == STATUS_COMMITTED || !onlyIfCommitted)) {
						claim.complete(outcome);
					}
					else {
						pending.claim.release();
					}
				}
			});
			return true;
		}

		// Stored as the transaction commits, within it: the record and the method's
		// writes commit together or not at all. At the commit rather than now, so that
		// the row is locked for the commit only, not for the rest of the caller's
		// transaction. An outcome kept whatever the transaction does (a final exception)
		// is stored on its own after a rollback. A call made while the transaction
		// commits (from a before-commit or after-commit callback) registers too late for
		// the commit's callbacks, which were taken before it ran: its outcome is stored
		// once the transaction has committed.
		private static void keepWithinTransaction(Pending pending, StoredResponse outcome) {
			Claim claim = pending.claim;
			TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {

				// Called on the transaction's thread only.
				private boolean storedAtCommit;

				@Override
				public void beforeCommit(boolean readOnly) {
					if (!pending.undone) {
						claim.completeInCurrentTransaction(outcome);
						this.storedAtCommit = true;
					}
				}

				@Override
				public void afterCompletion(int status) {
					if (pending.undone) {
						return;
					}
					if (status == STATUS_ROLLED_BACK && !pending.keptWhatever) {
						claim.release();
					}
					else if (status == STATUS_ROLLED_BACK || (status == STATUS_COMMITTED && !this.storedAtCommit)) {
						claim.complete(outcome);
					}
					else if (status == STATUS_UNKNOWN) {
						holdUntilLeaseEnds(claim);
					}
				}
			});
		}

		/**
		 * How a call within the current transaction is answered when an earlier call in
		 * it, with the same key, waits for the transaction to end: to keep its outcome,
		 * or to release its key after it failed.
		 * @param lifecycle gives the call a claim of its own on the key of one that
		 * failed and holds it, if the key is still that call's
		 * @param mayTakeOver whether the call may take the claim over from one that
		 * failed: only a call whose outcome waits for the transaction too
		 * @return a replay of that outcome, a mismatch, a claim taken over from the call
		 * that failed, or {@code null} when the store is to decide
		 */
		static @Nullable Decision pending(String recordKey, String fingerprint, IdempotencyLifecycle lifecycle,
				IdempotentOperation operation, String tag, boolean mayTakeOver) {
			if (!TransactionSynchronizationManager.isSynchronizationActive()) {
				return null;
			}
			PendingOutcomes pending = PendingOutcomes.find();
			return (pending != null) ? pending.decide(recordKey, fingerprint, lifecycle, operation, tag, mayTakeOver)
					: null;
		}

		// Committed or not, nobody knows: neither replay nor run again until the lease
		// runs out.
		static void holdUntilLeaseEnds(Claim claim) {
			claim.stopRenewal();
			logger.warn("The transaction around idempotency record " + claim.recordKey() + " ended in an unknown"
					+ " state; its key stays claimed until the lock timeout passes");
		}

		/**
		 * The calls of one transaction whose outcome is kept, or whose key is released,
		 * once it ends. A duplicate in the same transaction replays the outcomes: in the
		 * store it would find its key in progress until a commit that cannot come while
		 * it waits, and a batch of messages that holds one twice could never be
		 * processed. The replayed outcome commits or rolls back with the call that
		 * produced it. A rollback to a savepoint taken before a call undoes its writes:
		 * its key is released there and then, its outcome never kept nor replayed, so
		 * that the same call later in the transaction runs again.
		 *
		 * <p>
		 * Bound to the thread while its transaction is, as Spring binds a transaction's
		 * connection: set aside while the transaction is suspended (a transaction of its
		 * own, {@code REQUIRES_NEW}, never replays what the one it suspended has not
		 * committed), and unbound as the transaction completes, before its outcome is
		 * known, since a JTA transaction may end on another thread.
		 */
		private static final class PendingOutcomes implements TransactionSynchronization {

			private final List<Pending> pending = new ArrayList<>();

			// The latest of each key, for duplicates.
			private final Map<String, Pending> byRecordKey = new HashMap<>();

			// Calls that failed, by the claim the call made again took over theirs with.
			private final Map<Claim, Pending> handedOver = new IdentityHashMap<>();

			// How many calls were pending when each savepoint was taken.
			private final Map<Object, Integer> savepoints = new IdentityHashMap<>();

			private boolean completing;

			static @Nullable PendingOutcomes find() {
				return (PendingOutcomes) TransactionSynchronizationManager.getResource(PendingOutcomes.class);
			}

			static PendingOutcomes current() {
				PendingOutcomes outcomes = find();
				if (outcomes == null) {
					outcomes = new PendingOutcomes();
					TransactionSynchronizationManager.bindResource(PendingOutcomes.class, outcomes);
					TransactionSynchronizationManager.registerSynchronization(outcomes);
				}
				return outcomes;
			}

			Pending add(Claim claim, @Nullable StoredResponse outcome, boolean onlyIfCommitted) {
				Pending added = new Pending(claim, outcome, outcome != null && !onlyIfCommitted, this.pending.size(),
						this.handedOver.remove(claim));
				this.pending.add(added);
				this.byRecordKey.put(claim.recordKey(), added);
				return added;
			}

			@Nullable Decision decide(String recordKey, String fingerprint, IdempotencyLifecycle lifecycle,
					IdempotentOperation operation, String tag, boolean mayTakeOver) {
				Pending found = this.byRecordKey.get(recordKey);
				if (found == null) {
					return null;
				}
				if (found.outcome != null) {
					return found.claim.fingerprint().equals(fingerprint) ? new Decision.Replay(found.outcome)
							: new Decision.Mismatch();
				}
				// The store answers other arguments: it knows whether the key is still
				// the failed call's. And a call that does not wait for the transaction
				// (kept on return) cannot take the hold over: it would give the key up
				// at once if it failed, while the failed call's writes may still commit.
				if (!found.claim.fingerprint().equals(fingerprint) || !mayTakeOver) {
					return null;
				}
				// It failed, and holds its key until the transaction ends, as its
				// writes may still commit. Made again within the transaction (a
				// retry inside it, a listener container's retry in its transaction),
				// it runs under that hold rather than find itself in progress until
				// an end that cannot come while it waits; but only while the store
				// says the claim is still its own: past its lease, the key may be
				// another call's.
				Claim claim = lifecycle.takeOver(operation, tag, found.claim);
				if (claim == null) {
					return null;
				}
				found.undone = true;
				this.byRecordKey.remove(recordKey, found);
				this.handedOver.put(claim, found);
				return new Decision.Proceed(claim);
			}

			@Override
			public void savepoint(Object savepoint) {
				this.savepoints.put(savepoint, this.pending.size());
			}

			// A savepoint taken before these calls were first pending is one they all
			// came after. An outcome kept whatever the transaction does stays. A call
			// made again under the claim of one that failed before the savepoint hands
			// the claim back: the failed call's writes are still there, and may commit.
			@Override
			public void savepointRollback(Object savepoint) {
				int first = this.savepoints.getOrDefault(savepoint, 0);
				for (int i = first; i < this.pending.size(); i++) {
					Pending undone = this.pending.get(i);
					if (!undone.keptWhatever && !undone.undone) {
						undone.undone = true;
						this.byRecordKey.remove(undone.claim.recordKey(), undone);
						Pending failed = undone.madeAgainAfter;
						while (failed != null && failed.index >= first) {
							failed = failed.madeAgainAfter;
						}
						if (failed != null) {
							// Under the claim taken over from it, whose lease is renewed.
							failed.claim = undone.claim;
							failed.undone = false;
							this.byRecordKey.put(failed.claim.recordKey(), failed);
						}
						else {
							undone.claim.release();
						}
					}
				}
			}

			@Override
			public void suspend() {
				TransactionSynchronizationManager.unbindResourceIfPossible(PendingOutcomes.class);
			}

			@Override
			public void resume() {
				if (!this.completing && find() == null) {
					TransactionSynchronizationManager.bindResource(PendingOutcomes.class, this);
				}
			}

			@Override
			public void beforeCompletion() {
				this.completing = true;
				if (find() == this) {
					TransactionSynchronizationManager.unbindResource(PendingOutcomes.class);
				}
			}

			@Override
			public void afterCompletion(int status) {
				if (find() == this) {
					TransactionSynchronizationManager.unbindResource(PendingOutcomes.class);
				}
			}

		}

		/**
		 * A call that waits for its transaction: to keep its outcome, or to release its
		 * key.
		 */
		private static final class Pending {

			// Its own claim or, once a rollback has undone the call made again under it,
			// that call's, which is the one still renewed.
			volatile Claim claim;

			// Null for a call whose key is released when the transaction ends.
			final @Nullable StoredResponse outcome;

			// A final exception, kept whether the transaction commits or not.
			final boolean keptWhatever;

			// Where it stands among its transaction's calls.
			final int index;

			// The call that failed, whose claim this call was made again under.
			final @Nullable Pending madeAgainAfter;

			// Rolled back to a savepoint taken before the call (released, never kept), or
			// its claim handed to the same call made again: nothing more to do for it. A
			// JTA transaction may complete on another thread than the one that set it.
			volatile boolean undone;

			Pending(Claim claim, @Nullable StoredResponse outcome, boolean keptWhatever, int index,
					@Nullable Pending madeAgainAfter) {
				this.claim = claim;
				this.outcome = outcome;
				this.keptWhatever = keptWhatever;
				this.index = index;
				this.madeAgainAfter = madeAgainAfter;
			}

		}

	}

}
