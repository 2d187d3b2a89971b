package io.github.idempotency.method;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.IdempotencyException;
import io.github.idempotency.IdempotencyKeyReusedException;
import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.IdempotentResultNotKeptException;
import io.github.idempotency.UnreadableRecordException;
import io.github.idempotency.json.ResultCodec;
import io.github.idempotency.InvalidIdempotencyKeyException;
import io.github.idempotency.interceptor.IdempotencyOutcome;
import io.github.idempotency.interceptor.IdempotencyOutcomeListener;
import io.github.idempotency.interceptor.RefusalTranslator;
import io.github.idempotency.method.Gateways.BankGateway;
import io.github.idempotency.method.Gateways.CardGateway;
import io.github.idempotency.method.Payments.Card;
import io.github.idempotency.method.Payments.Charge;
import io.github.idempotency.method.Payments.DeclinedException;
import io.github.idempotency.method.Payments.InsufficientFundsException;
import io.github.idempotency.method.Payments.Receipt;
import io.github.idempotency.test.RedisTestServer;
import io.lettuce.core.resource.ClientResources;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import org.jspecify.annotations.Nullable;
import org.aspectj.lang.annotation.Aspect;
import org.aspectj.lang.annotation.Before;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.core.ResolvableType;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

/**
 * {@code @Idempotent} on a plain service bean, outside any web request, against the test
 * Redis.
 */
@SpringBootTest(classes = IdempotentMethodTests.MethodApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE, properties = { "idempotency.key-prefix=method-test",
				"idempotency.max-result-size=4KB", "spring.data.redis.timeout=3s" })
class IdempotentMethodTests {

	@Autowired
	private Payments payments;

	@Autowired
	private RedisConnectionFactory connectionFactory;

	@Autowired
	private Outcomes outcomes;

	@Autowired
	private CalledAgainAdvice calledAgainAdvice;

	@Autowired
	private CardGateway cardGateway;

	@Autowired
	private BankGateway bankGateway;

	private String key;

	@BeforeEach
	void newKey() {
		this.key = UUID.randomUUID().toString();
	}

	@Test
	void retryWithSameKeyShouldReturnFirstResultWithoutRunningAgain() {
		int before = this.payments.runs("charge");
		Receipt first = this.payments.charge(new Charge(this.key, 1250));
		Receipt retry = this.payments.charge(new Charge(this.key, 1250));
		assertThat(retry).isEqualTo(first);
		assertThat(this.payments.runs("charge")).isEqualTo(before + 1);
		assertThat(this.outcomes.tags).contains("Payments#charge executed", "Payments#charge replayed");
	}

	// A future that the Redis client's own I/O threads complete (its async API's, or one
	// chained on it): the outcome is stored from such a thread too, one of which serves
	// the store's connection, without waiting for a reply only it could read.
	@Test
	void futureCompletedOnTheRedisClientsIoThreadsShouldBeKept() throws Exception {
		ClientResources resources = ((LettuceConnectionFactory) this.connectionFactory).getClientResources();
		EventLoopGroup loops = resources.eventLoopGroupProvider().allocate(NioEventLoopGroup.class);
		try {
			List<String> keys = new ArrayList<>();
			for (EventExecutor loop : loops) {
				String key = this.key + "-" + keys.size();
				keys.add(key);
				assertThat(this.payments.completedOn(key, loop).get(10, TimeUnit.SECONDS).note())
					.isEqualTo("completed");
			}
			int runs = this.payments.runs("completedOn");
			for (String key : keys) {
				assertThat(this.payments.completedOn(key, Runnable::run).get(10, TimeUnit.SECONDS).note())
					.isEqualTo("completed");
			}
			assertThat(this.payments.runs("completedOn")).isEqualTo(runs);
		}
		finally {
			resources.eventLoopGroupProvider().release(loops, 0, 0, TimeUnit.SECONDS);
		}
	}

	// Lettuce fails the wait for an answer at once on an interrupted thread (the command
	// has gone all the same), as would a JDBC pool's wait for a connection.
	@Test
	@ExtendWith(OutputCaptureExtension.class)
	void callThatSetsItsThreadsInterruptFlagShouldStillBeKept(CapturedOutput output) throws Exception {
		int before = this.payments.runs("interrupted");
		FutureTask<Boolean> call = new FutureTask<>(() -> {
			this.payments.interrupted(this.key);
			return Thread.currentThread().isInterrupted();
		});
		new Thread(call).start();
		assertThat(call.get(10, TimeUnit.SECONDS)).as("the interrupt flag the call set").isTrue();
		Receipt retry = this.payments.interrupted(this.key);

		assertThat(retry.note()).isEqualTo("interrupted " + (before + 1));
		assertThat(this.payments.runs("interrupted")).isEqualTo(before + 1);
		assertThat(Thread.interrupted()).isFalse();
		assertThat(output).doesNotContain("Could not store the outcome");
	}

	@Test
	void keyReusedWithOtherArgumentsShouldThrowWithoutRunning() {
		int before = this.payments.runs("charge");
		this.payments.charge(new Charge(this.key, 1250));
		assertThatExceptionOfType(IdempotencyKeyReusedException.class)
			.isThrownBy(() -> this.payments.charge(new Charge(this.key, 9999)))
			.withMessageContaining("Payments.charge");
		assertThat(this.payments.runs("charge")).isEqualTo(before + 1);
	}

	@Test
	void genericReturnTypesShouldRoundTrip() {
		List<Receipt> list = this.payments.list(this.key, 3);
		assertThat(this.payments.list(this.key, 3)).isEqualTo(list).hasSize(3).first().isInstanceOf(Receipt.class);
		String other = UUID.randomUUID().toString();
		Optional<Receipt> found = this.payments.find(this.key, true);
		assertThat(this.payments.find(this.key, true)).isEqualTo(found).isPresent();
		assertThat(this.payments.find(other, false)).isEmpty();
		assertThat(this.payments.find(other, false)).isEmpty();
		assertThat(this.payments.runs("list")).isOne();
	}

	@Test
	void voidAndNullResultsShouldReplayWithoutRunning() {
		int touched = this.payments.runs("touch");
		int nothing = this.payments.runs("nothing");
		this.payments.touch(this.key);
		this.payments.touch(this.key);
		assertThat(this.payments.nothing(this.key)).isNull();
		assertThat(this.payments.nothing(this.key)).isNull();
		assertThat(this.payments.runs("touch")).isEqualTo(touched + 1);
		assertThat(this.payments.runs("nothing")).isEqualTo(nothing + 1);
	}

	// The caller's future completes once the record is kept: a retry right after replays.
	@Test
	void futureShouldCompleteRecordWhenItCompletes() throws Exception {
		int before = this.payments.runs("later");
		Receipt first = this.payments.later(this.key).get(5, TimeUnit.SECONDS);
		assertThat(this.payments.later(this.key).get(5, TimeUnit.SECONDS)).isEqualTo(first);
		assertThat(this.payments.runs("later")).isEqualTo(before + 1);
	}

	// What the caller does with the value once its future completes comes after the
	// value is kept.
	@Test
	void valueTheCallerChangesShouldBeKeptAsTheMethodReturnedIt() throws Exception {
		int before = this.payments.runs("gathered");
		CompletableFuture<Void> ready = new CompletableFuture<>();
		CompletableFuture<List<String>> changed = this.payments.gathered(this.key, ready).thenApply((list) -> {
			list.add("changed by the caller");
			return list;
		});
		ready.complete(null);
		assertThat(changed.get(5, TimeUnit.SECONDS)).containsExactly("gathered", "changed by the caller");
		assertThat(this.payments.gathered(this.key, ready).get(5, TimeUnit.SECONDS)).containsExactly("gathered");
		assertThat(this.payments.runs("gathered")).isEqualTo(before + 1);
	}

	@Test
	void cancellingTheReturnedFutureShouldNeitherStopNorForgetTheWork() throws Exception {
		int before = this.payments.runs("slowly");
		CompletableFuture<Receipt> first = this.payments.slowly(this.key);
		first.cancel(true);
		first.complete(new Receipt("fallback", 0, "fallback"));
		CompletableFuture<Receipt> replay = awaitReplay(() -> this.payments.slowly(this.key));
		assertThat(replay.get(5, TimeUnit.SECONDS).note()).isEqualTo("slowly " + (before + 1));
		assertThat(this.payments.runs("slowly")).isEqualTo(before + 1);
	}

	@Test
	void valueThatCannotBeKeptShouldNotLetRetryRunAgain() {
		int before = this.payments.runs("opaque");
		assertThat(this.payments.opaque(this.key)).isNotNull();
		assertThatExceptionOfType(IdempotentResultNotKeptException.class)
			.isThrownBy(() -> this.payments.opaque(this.key));
		assertThat(this.payments.runs("opaque")).isEqualTo(before + 1);
	}

	// A codec of the application's may throw what ResultCodec does not promise.
	@Test
	void valueTheApplicationsCodecFailsOnShouldNotLetRetryRunAgain() {
		int before = this.payments.runs("unwritable");
		assertThat(this.payments.unwritable(this.key)).isNotNull();
		assertThatExceptionOfType(IdempotentResultNotKeptException.class)
			.isThrownBy(() -> this.payments.unwritable(this.key));
		assertThat(this.payments.runs("unwritable")).isEqualTo(before + 1);
	}

	// Or on a final exception's message: the method's own exception reaches the caller,
	// and retries do not run it again.
	@Test
	void finalExceptionWhoseMessageTheApplicationsCodecFailsOnShouldNotLetRetryRunAgain() {
		int before = this.payments.runs("declineWith");
		assertThatExceptionOfType(DeclinedException.class)
			.isThrownBy(() -> this.payments.declineWith(this.key, "unwritable reason"));
		assertThatExceptionOfType(IdempotentResultNotKeptException.class)
			.isThrownBy(() -> this.payments.declineWith(this.key, "unwritable reason"));
		assertThat(this.payments.runs("declineWith")).isEqualTo(before + 1);
	}

	// Or on reading a kept message back (a codec the application changed since): its
	// retries fail as for any record that cannot be read.
	@Test
	void finalExceptionWhoseMessageTheApplicationsCodecCannotReadShouldFailRetriesAsUnreadable() {
		int before = this.payments.runs("declineWith");
		assertThatExceptionOfType(DeclinedException.class)
			.isThrownBy(() -> this.payments.declineWith(this.key, "unreadable reason"));
		assertThatExceptionOfType(UnreadableRecordException.class)
			.isThrownBy(() -> this.payments.declineWith(this.key, "unreadable reason"))
			.withMessageContaining("cannot be read");
		assertThat(this.payments.runs("declineWith")).isEqualTo(before + 1);
	}

	// As JSON, the text of 4,094 characters is 4,096 bytes: the most that is kept.
	@Test
	@ExtendWith(OutputCaptureExtension.class)
	void valueLargerThanMaxResultSizeShouldBeReturnedButNotLetRetryRunAgain(CapturedOutput output) {
		int before = this.payments.runs("text");
		String largest = UUID.randomUUID().toString();
		assertThat(this.payments.text(largest, 4094)).hasSize(4094);
		assertThat(this.payments.text(largest, 4094)).hasSize(4094);
		assertThat(this.payments.text(this.key, 4095)).hasSize(4095);
		assertThatExceptionOfType(IdempotentResultNotKeptException.class)
			.isThrownBy(() -> this.payments.text(this.key, 4095));
		assertThat(this.payments.runs("text")).isEqualTo(before + 2);
		assertThat(output).contains("Payments.text returned a value of 4097 bytes as JSON, more than"
				+ " idempotency.max-result-size (4096 bytes)");
	}

	// The caller's copy of a future the method's work cancelled is cancelled too, as a
	// caller that asks isCancelled() expects; the key stays claimed, since the work
	// behind it may still run.
	@Test
	void futureTheWorkCancelledShouldReachTheCallerCancelled() {
		CompletableFuture<Receipt> first = this.payments.abandoned(this.key);
		assertThat(first).isCancelled();
		assertThatExceptionOfType(IdempotentCallInProgressException.class)
			.isThrownBy(() -> this.payments.abandoned(this.key));
	}

	// A stage of cancelled work fails with the cancellation as its cause: the work may
	// still run all the same, so the key stays claimed rather than given up.
	@Test
	void futureOfAStageOfCancelledWorkShouldKeepTheKeyClaimed() {
		int before = this.payments.runs("abandonedUpstream");
		assertThat(this.payments.abandonedUpstream(this.key)).failsWithin(Duration.ofSeconds(5))
			.withThrowableOfType(ExecutionException.class)
			.withCauseInstanceOf(CancellationException.class);
		assertThatExceptionOfType(IdempotentCallInProgressException.class)
			.isThrownBy(() -> this.payments.abandonedUpstream(this.key));
		assertThat(this.payments.runs("abandonedUpstream")).isEqualTo(before + 1);
	}

	// Where the caller settles by the future (a RabbitMQ listener's container), what
	// would be thrown comes in it, an Error excepted; only for a method declared to
	// return a CompletableFuture, the one kind Spring AMQP settles that way.
	@Test
	void methodSettledByItsFutureShouldGetRefusalsInTheFuture() throws Exception {
		CompletableFuture<Receipt> first = this.payments.settledByFuture(this.key, false);
		assertThat(this.payments.settledByFuture(this.key, false)).failsWithin(Duration.ofSeconds(5))
			.withThrowableOfType(ExecutionException.class)
			.withCauseInstanceOf(IdempotentCallInProgressException.class);
		assertThat(this.payments.settledByFuture(null, false)).failsWithin(Duration.ofSeconds(5))
			.withThrowableOfType(ExecutionException.class)
			.withCauseInstanceOf(InvalidIdempotencyKeyException.class);
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> this.payments.settledByFuture(this.key + "-broken", true));
		assertThat(first.get(5, TimeUnit.SECONDS).note()).isEqualTo("settled");
		assertThat(this.payments.settledByFuture(this.key, false).get(5, TimeUnit.SECONDS).note()).isEqualTo("settled");
		this.payments.settledByFutureStage(this.key + "-stage");
		assertThatExceptionOfType(IdempotentCallInProgressException.class)
			.isThrownBy(() -> this.payments.settledByFutureStage(this.key + "-stage"));
		assertThat(this.payments.runs("settledByFuture")).isGreaterThanOrEqualTo(2);
	}

	// A stage that is not a future may refuse to become one: it is followed as a stage.
	@Test
	void stageThatRefusesToBecomeAFutureShouldBeKeptWhenItCompletes() throws Exception {
		int before = this.payments.runs("settledByOpaqueStage");
		assertThat(this.payments.settledByOpaqueStage(this.key).toCompletableFuture().get(5, TimeUnit.SECONDS).note())
			.isEqualTo("settled opaquely");
		assertThat(this.payments.settledByOpaqueStage(this.key).toCompletableFuture().get(5, TimeUnit.SECONDS).note())
			.isEqualTo("settled opaquely");
		assertThat(this.payments.runs("settledByOpaqueStage")).isEqualTo(before + 1);
	}

	// The work behind the future met a duplicate in progress inside it: the future fails
	// as the translator says, later, and the key is given up so that a retry runs.
	@Test
	void futureWhoseWorkMetAnInnerDuplicateShouldFailAsTranslatedLater() {
		int before = this.payments.runs("metInnerDuplicate");
		assertThat(this.payments.metInnerDuplicate(this.key)).failsWithin(Duration.ofSeconds(5))
			.withThrowableOfType(ExecutionException.class)
			.havingCause()
			.isInstanceOf(IllegalStateException.class)
			.withMessageStartingWith("Translated: ")
			.satisfies((translated) -> assertThat(translated.getSuppressed()).hasSize(1));
		assertThat(this.payments.metInnerDuplicate(this.key)).failsWithin(Duration.ofSeconds(5));
		assertThat(this.payments.runs("metInnerDuplicate")).isEqualTo(before + 2);
	}

	// Made again, as the translator says, until the call returns; its future completes as
	// that call's does, and what it returned is kept.
	@Test
	void futureWhoseWorkMetAnInnerDuplicateShouldCompleteAsTheCallMadeAgainDoes() {
		int before = this.payments.runs("calledAgain");
		int advised = this.calledAgainAdvice.calls.get();
		assertThat(this.payments.calledAgain(this.key)).succeedsWithin(Duration.ofSeconds(5))
			.extracting(Receipt::note)
			.isEqualTo("call 3");
		assertThat(this.payments.runs("calledAgain")).isEqualTo(before + 3);
		// The advice inside the idempotency advice runs each time, on whatever thread.
		assertThat(this.calledAgainAdvice.calls).hasValue(advised + 3);
		assertThat(this.payments.calledAgain(this.key)).succeedsWithin(Duration.ofSeconds(5))
			.extracting(Receipt::note)
			.isEqualTo("call 3");
		assertThat(this.payments.runs("calledAgain")).isEqualTo(before + 3);
	}

	// A translator whose stage is complete already has the call made again at once, on
	// another thread: on the same one, it would be made again there as deep as its
	// duplicate lasts.
	@Test
	void futureWhoseTranslatorCallsItAgainAtOnceShouldHaveItMadeOnAnotherThread() {
		int before = this.payments.runs("calledAgainAtOnce");
		assertThat(this.payments.calledAgainAtOnce(this.key)).succeedsWithin(Duration.ofSeconds(5))
			.extracting(Receipt::note)
			.isNotEqualTo(Thread.currentThread().getName());
		assertThat(this.payments.runs("calledAgainAtOnce")).isEqualTo(before + 2);
	}

	// Cancelled by its caller before the pause ended, the call is not made again.
	@Test
	void futureCancelledBeforeItsCallWasMadeAgainShouldStayCancelled() {
		int before = this.payments.runs("calledAgainAfterTheGate");
		this.payments.close();
		CompletableFuture<Receipt> receipt = this.payments.calledAgainAfterTheGate(this.key);
		receipt.cancel(false);
		this.payments.open();
		await().during(Duration.ofMillis(500))
			.atMost(Duration.ofSeconds(2))
			.until(() -> this.payments.runs("calledAgainAfterTheGate") == before + 1);
	}

	// A translator that throws leaves the failure as it was, rather than the future never
	// completed.
	@Test
	void futureWhoseTranslatorFailedShouldFailWithWhatItsWorkFailedWith() {
		assertThat(this.payments.metInnerDuplicateUntranslated(this.key)).failsWithin(Duration.ofSeconds(5))
			.withThrowableOfType(ExecutionException.class)
			.havingCause()
			.withMessage("Breaks the translator")
			.satisfies((failure) -> assertThat(failure.getSuppressed()).singleElement()
				.extracting(Throwable::getMessage)
				.isEqualTo("The translator is broken"))
			.havingCause()
			.isInstanceOf(IdempotentCallInProgressException.class);
	}

	// A time limit stops waiting, not the work: the key stays claimed.
	@Test
	void futureThatTimedOutShouldKeepTheKeyClaimed() {
		int before = this.payments.runs("timedOut");
		assertThat(this.payments.timedOut(this.key)).failsWithin(Duration.ofSeconds(5))
			.withThrowableOfType(ExecutionException.class)
			.withCauseInstanceOf(TimeoutException.class);
		assertThatExceptionOfType(IdempotentCallInProgressException.class)
			.isThrownBy(() -> this.payments.timedOut(this.key));
		assertThat(this.payments.runs("timedOut")).isEqualTo(before + 1);
	}

	// A method returning a future may throw before it returns one: its replays throw too,
	// rather than return a failed future its callers would not look into.
	@Test
	void finalExceptionOfAMethodReturningAFutureShouldBeReplayedAsItCame() {
		int before = this.payments.runs("declineEarlyOrLate");
		String early = this.key + "-early";
		for (int call = 0; call < 2; call++) {
			assertThatExceptionOfType(DeclinedException.class)
				.isThrownBy(() -> this.payments.declineEarlyOrLate(early, true))
				.withMessage("declined early");
			CompletableFuture<Receipt> late = this.payments.declineEarlyOrLate(this.key, false);
			assertThat(late).failsWithin(Duration.ofSeconds(5))
				.withThrowableOfType(ExecutionException.class)
				.withCauseInstanceOf(DeclinedException.class)
				.withMessageContaining("declined late");
			// The same failure, first call or replay, for a caller that looks at it
			// rather than at its cause.
			assertThat(late.handle((value, failure) -> failure)).succeedsWithin(Duration.ofSeconds(5))
				.isInstanceOf(CompletionException.class)
				.extracting(Throwable::getCause)
				.isInstanceOf(DeclinedException.class);
		}
		assertThat(this.payments.runs("declineEarlyOrLate")).isEqualTo(before + 2);
	}

	@Test
	void finalExceptionWithMessageLargerThanMaxResultSizeShouldBeThrownAgainWithoutIt() {
		int before = this.payments.runs("declineAtLength");
		String largest = UUID.randomUUID().toString();
		assertThatExceptionOfType(DeclinedException.class)
			.isThrownBy(() -> this.payments.declineAtLength(largest, 4094));
		assertThatExceptionOfType(DeclinedException.class)
			.isThrownBy(() -> this.payments.declineAtLength(largest, 4094))
			.withMessage("x".repeat(4094));
		assertThatExceptionOfType(DeclinedException.class)
			.isThrownBy(() -> this.payments.declineAtLength(this.key, 4095))
			.withMessage("x".repeat(4095));
		assertThatExceptionOfType(DeclinedException.class)
			.isThrownBy(() -> this.payments.declineAtLength(this.key, 4095))
			.withMessage(null);
		assertThat(this.payments.runs("declineAtLength")).isEqualTo(before + 2);
	}

	@Test
	void argumentsWrittenAsJsonThatCannotBeCanonicalShouldStillBeFingerprinted() {
		int before = this.payments.runs("pay");
		Receipt first = this.payments.pay(this.key, new Card(700));
		assertThat(this.payments.pay(this.key, new Card(700))).isEqualTo(first);
		assertThatExceptionOfType(IdempotencyKeyReusedException.class)
			.isThrownBy(() -> this.payments.pay(this.key, new Card(800)));
		assertThat(this.payments.runs("pay")).isEqualTo(before + 1);
	}

	// Each gateway is its own operation, named by its interface, with the parameter names
	// the interface declares: not by the JDK's proxy class, whose name is made up anew in
	// each JVM, nor by the interface they share.
	@Test
	void beansMadeFromInterfacesShouldBeKeyedAndScopedByTheirInterface() {
		assertThat(this.cardGateway.send(this.key, 100)).isEqualTo("CardGateway sent " + this.key + " 1");
		assertThat(this.cardGateway.send(this.key, 100)).isEqualTo("CardGateway sent " + this.key + " 1");
		assertThat(this.bankGateway.send(this.key, 100)).isEqualTo("BankGateway sent " + this.key + " 1");
		assertThat(this.bankGateway.send(this.key, 100)).isEqualTo("BankGateway sent " + this.key + " 1");
		assertThat(this.outcomes.tags).contains("CardGateway#send executed", "CardGateway#send replayed",
				"BankGateway#send executed", "BankGateway#send replayed");
	}

	@Test
	void subclassOfFinalExceptionShouldBeThrownAgainAsItself() {
		int before = this.payments.runs("insufficient");
		assertThatExceptionOfType(InsufficientFundsException.class)
			.isThrownBy(() -> this.payments.insufficient(this.key));
		assertThatExceptionOfType(InsufficientFundsException.class)
			.isThrownBy(() -> this.payments.insufficient(this.key))
			.withMessage("balance too low " + (before + 1));
		assertThat(this.payments.runs("insufficient")).isEqualTo(before + 1);
	}

	// Thrown as it is, or wrapped on its way (an inner call awaited through a future).
	@ParameterizedTest
	@ValueSource(booleans = { false, true })
	void refusalOfACallInsideShouldNotBeKeptEvenWhereEveryExceptionIsFinal(boolean wrapped) {
		int before = this.payments.runs("settle");
		RuntimeException refusal = new IdempotentCallInProgressException("the inner call is still running");
		RuntimeException thrown = wrapped ? new CompletionException(refusal) : refusal;
		assertThatExceptionOfType(thrown.getClass()).isThrownBy(() -> this.payments.settle(this.key, () -> {
			throw thrown;
		}));
		assertThat(this.payments.settle(this.key, () -> new Receipt(this.key, 9, "settled")).note())
			.isEqualTo("settled");
		assertThat(this.payments.runs("settle")).isEqualTo(before + 2);
	}

	@Test
	void overloadsShouldKeepRecordsApart() {
		assertThat(this.payments.quote(this.key).note()).isEqualTo("one");
		assertThat(this.payments.quote(this.key, 3).note()).isEqualTo("many");
		assertThat(this.payments.quote(this.key, 3).note()).isEqualTo("many");
	}

	@Test
	void exceptionShouldReleaseKeySoRetryRuns() {
		int before = this.payments.runs("failing");
		int counted = this.outcomes.tags.size();
		assertThatIllegalStateException().isThrownBy(() -> this.payments.failing(this.key, true))
			.withMessage("payment provider down");
		assertThat(this.payments.failing(this.key, false)).isNotNull();
		assertThat(this.payments.runs("failing")).isEqualTo(before + 2);
		assertThat(this.outcomes.since(counted)).filteredOn((tag) -> tag.startsWith("Payments#failing "))
			.containsExactly("Payments#failing executed", "Payments#failing released", "Payments#failing executed");
	}

	@Test
	void finalExceptionShouldBeThrownAgainOnReplayWithoutRunning() {
		int before = this.payments.runs("decline");
		assertThatExceptionOfType(DeclinedException.class).isThrownBy(() -> this.payments.decline(this.key))
			.withMessage("card declined " + (before + 1));
		assertThatExceptionOfType(DeclinedException.class).isThrownBy(() -> this.payments.decline(this.key))
			.withMessage("card declined " + (before + 1));
		assertThat(this.payments.runs("decline")).isEqualTo(before + 1);
	}

	@Test
	void missingKeyShouldThrowUnlessOptional() {
		int before = this.payments.runs("optional");
		int counted = this.outcomes.tags.size();
		assertThatExceptionOfType(InvalidIdempotencyKeyException.class)
			.isThrownBy(() -> this.payments.charge(new Charge(null, 1)))
			.withMessageContaining("without a key");
		assertThatExceptionOfType(InvalidIdempotencyKeyException.class)
			.isThrownBy(() -> this.payments.charge(new Charge("", 1)))
			.withMessageContaining("empty");
		this.payments.optional(null);
		this.payments.optional(null);
		assertThat(this.payments.runs("optional")).isEqualTo(before + 2);
		assertThat(this.outcomes.since(counted))
			.filteredOn((tag) -> tag.startsWith("Payments#charge ") || tag.startsWith("Payments#optional "))
			.containsExactly("Payments#charge missing", "Payments#charge invalid", "Payments#optional bypassed",
					"Payments#optional bypassed");
	}

	// A key in bytes, as a message header's value comes: a new array on each delivery.
	@Test
	void keyGivenAsBytesShouldBeTheSameForEqualBytes() {
		int before = this.payments.runs("receive");
		Receipt first = this.payments.receive(this.key.getBytes(StandardCharsets.UTF_8), 700);
		Receipt retry = this.payments.receive(this.key.getBytes(StandardCharsets.UTF_8), 700);
		assertThat(retry).isEqualTo(first);
		assertThat(first.reference()).isEqualTo(this.key);
		assertThat(this.payments.runs("receive")).isEqualTo(before + 1);
	}

	@Test
	void keyWhoseTextIsItsIdentityShouldThrowWithoutRunning() {
		int before = this.payments.runs("order");
		assertThatExceptionOfType(InvalidIdempotencyKeyException.class)
			.isThrownBy(() -> this.payments.order(new Payments.Command(this.key)))
			.withMessageContaining("Payments$Command");
		assertThat(this.payments.runs("order")).isEqualTo(before);
	}

	// Equal sets are the same arguments whatever order they iterate in: a HashSet of enum
	// constants, or Set.of(...), iterates in another order in each JVM.
	@Test
	void setsIteratingInAnotherOrderShouldBeTheSameArguments() {
		int before = this.payments.runs("tag");
		Receipt first = this.payments.tag(this.key, new LinkedHashSet<>(List.of("a", "b", "c")),
				new Payments.Tagged(new LinkedHashSet<>(List.of("x", "y"))));
		Receipt retry = this.payments.tag(this.key, new LinkedHashSet<>(List.of("c", "a", "b")),
				new Payments.Tagged(new LinkedHashSet<>(List.of("y", "x"))));
		assertThat(retry).isEqualTo(first);
		assertThat(this.payments.runs("tag")).isEqualTo(before + 1);
		assertThatExceptionOfType(IdempotencyKeyReusedException.class).isThrownBy(() -> this.payments.tag(this.key,
				new LinkedHashSet<>(List.of("a", "b")), new Payments.Tagged(new LinkedHashSet<>(List.of("x", "y")))));
	}

	// Declared as a Number, a Long is read back as an Integer: the replay differs in
	// class, which the first call says.
	@Test
	@ExtendWith(OutputCaptureExtension.class)
	void valueReplayedAsAnotherClassShouldBeToldOfAtTheFirstCall(CapturedOutput output) {
		assertThat(this.payments.total(this.key)).isEqualTo(1250L);
		assertThat(output)
			.contains("Payments.total returned a java.lang.Long, which its replays return as a" + " java.lang.Integer");
		assertThat(this.payments.total(this.key)).isEqualTo(1250);
	}

	@Test
	void fingerprintExpressionShouldCoverOnlyWhatItNames() {
		Receipt first = this.payments.refund(this.key, 500, "first comment");
		assertThat(this.payments.refund(this.key, 500, "another comment")).isEqualTo(first);
		assertThatExceptionOfType(IdempotencyKeyReusedException.class)
			.isThrownBy(() -> this.payments.refund(this.key, 600, "first comment"));
	}

	@Test
	void methodsSharingScopeShouldShareRecords() {
		int rebooked = this.payments.runs("rebook");
		Receipt booked = this.payments.book(this.key);
		assertThat(this.payments.rebook(this.key)).isEqualTo(booked);
		assertThat(this.payments.runs("rebook")).isEqualTo(rebooked);
		assertThat(this.outcomes.tags).contains("bookings replayed");
	}

	@Test
	void concurrentCallsWithOneKeyShouldRunBodyOnceAndGetItsValueOrInProgress() throws Exception {
		int before = this.payments.runs("gated");
		this.payments.close();
		int threads = 64;
		ExecutorService pool = Executors.newFixedThreadPool(threads);
		CountDownLatch start = new CountDownLatch(1);
		ConcurrentLinkedQueue<Object> answers = new ConcurrentLinkedQueue<>();
		List<Future<?>> calls = new ArrayList<>();
		try {
			for (int i = 0; i < threads; i++) {
				calls.add(pool.submit(() -> {
					start.await();
					try {
						answers.add(this.payments.gated(this.key));
					}
					catch (IdempotentCallInProgressException ex) {
						answers.add(ex);
					}
					return null;
				}));
			}
			start.countDown();
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
			while (answers.size() < threads - 1 && System.nanoTime() < deadline) {
				Thread.sleep(10);
			}
			this.payments.open();
			for (Future<?> call : calls) {
				call.get(10, TimeUnit.SECONDS);
			}
		}
		finally {
			pool.shutdownNow();
		}
		assertThat(this.payments.runs("gated")).isEqualTo(before + 1);
		List<Object> values = answers.stream().filter(Receipt.class::isInstance).toList();
		assertThat(values).hasSize(1);
		assertThat(answers).hasSize(threads)
			.filteredOn(IdempotentCallInProgressException.class::isInstance)
			.hasSize(threads - 1);
		assertThat(this.payments.gated(this.key)).isEqualTo(values.get(0));
		assertThat(this.payments.runs("gated")).isEqualTo(before + 1);
	}

	// The caller of an @Async method hears of a duplicate in progress from the future it
	// gets, and can call again.
	@Test
	void asyncMethodShouldRunOnceAndTellItsCallerOfADuplicateInProgress() throws Exception {
		int before = this.payments.runs("gatedInBackground");
		this.payments.close();
		CompletableFuture<Receipt> first;
		try {
			first = this.payments.gatedInBackground(this.key);
			await().atMost(Duration.ofSeconds(10)).until(() -> this.payments.runs("gatedInBackground") == before + 1);
			CompletableFuture<Receipt> duplicate = this.payments.gatedInBackground(this.key);
			assertThatExceptionOfType(ExecutionException.class).isThrownBy(() -> duplicate.get(10, TimeUnit.SECONDS))
				.withCauseInstanceOf(IdempotentCallInProgressException.class);
		}
		finally {
			this.payments.open();
		}
		Receipt receipt = first.get(10, TimeUnit.SECONDS);
		assertThat(this.payments.gatedInBackground(this.key).get(10, TimeUnit.SECONDS)).isEqualTo(receipt);
		assertThat(this.payments.runs("gatedInBackground")).isEqualTo(before + 1);
	}

	private static <T> T awaitReplay(java.util.function.Supplier<T> call) throws InterruptedException {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
		while (true) {
			try {
				return call.get();
			}
			catch (IdempotentCallInProgressException ex) {
				if (System.nanoTime() > deadline) {
					throw ex;
				}
				Thread.sleep(10);
			}
		}
	}

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@EnableAsync
	static class MethodApplication {

		@Bean
		Payments payments() {
			return new Payments();
		}

		@Bean
		Outcomes outcomes() {
			return new Outcomes();
		}

		// The auto-configured codec, behind one that fails with an exception of its own
		// on what Payments.unwritable returns, on writing a text that begins "unwritable"
		// and on reading one that begins "unreadable".
		@Bean
		static BeanPostProcessor codecFailingOnUnwritable() {
			return new BeanPostProcessor() {
				@Override
				public Object postProcessAfterInitialization(Object bean, String beanName) {
					if (!(bean instanceof ResultCodec codec)) {
						return bean;
					}
					return new ResultCodec() {
						@Override
						public byte[] write(@Nullable Object value, ResolvableType type) {
							if (value instanceof Payments.Unwritable
									|| (value instanceof String text && text.startsWith("unwritable"))) {
								throw new IllegalStateException("The application's codec cannot write " + value);
							}
							return codec.write(value, type);
						}

						@Override
						public byte[] writeForFingerprint(@Nullable Object value, ResolvableType type) {
							return codec.writeForFingerprint(value, type);
						}

						@Override
						public @Nullable Object read(byte[] json, ResolvableType type) {
							if (new String(json, StandardCharsets.UTF_8).startsWith("\"unreadable")) {
								throw new IllegalStateException("The application's codec cannot read this");
							}
							return codec.read(json, type);
						}
					};
				}
			};
		}

		@Bean
		CalledAgainAdvice calledAgainAdvice() {
			return new CalledAgainAdvice();
		}

		@Bean
		RefusalTranslator settledByFuture() {
			return new RefusalTranslator() {

				@Override
				public Throwable translate(IdempotencyException refusal, Method method) {
					return refusal;
				}

				@Override
				public boolean failsFuture(Method method) {
					return method.getName().startsWith("settledByFuture");
				}

				@Override
				public CompletionStage<Throwable> translateLater(IdempotencyException refusal, Method method) {
					return switch (method.getName()) {
						case "metInnerDuplicate" -> CompletableFuture.supplyAsync(
								() -> new IllegalStateException("Translated: " + refusal.getMessage(), refusal),
								CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS));
						default -> CompletableFuture.completedFuture(refusal);
					};
				}

				@Override
				public @Nullable CompletionStage<?> callAgainLater(IdempotencyException refusal, Method method) {
					if (method.getName().equals("calledAgainAtOnce")) {
						return CompletableFuture.completedFuture(null);
					}
					return method.getName().startsWith("calledAgain") ? CompletableFuture.runAsync(() -> {
					}, CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS)) : null;
				}

				@Override
				public boolean isTranslated(Throwable thrown) {
					if ("Breaks the translator".equals(thrown.getMessage())) {
						throw new IllegalStateException("The translator is broken");
					}
					return false;
				}

			};
		}

		@Bean
		Map<String, AtomicInteger> sends() {
			return Gateways.newSends();
		}

		@Bean
		CardGateway cardGateway(Map<String, AtomicInteger> sends) {
			return Gateways.gateway(CardGateway.class, sends);
		}

		@Bean
		BankGateway bankGateway(Map<String, AtomicInteger> sends) {
			return Gateways.gateway(BankGateway.class, sends);
		}

	}

	/**
	 * Advice inside the idempotency advice that binds an argument, for which Spring AOP
	 * reads what the proxy set up on the calling thread.
	 */
	@Aspect
	static class CalledAgainAdvice {

		final AtomicInteger calls = new AtomicInteger();

		@Before("execution(* io.github.idempotency.method.Payments.calledAgain(..)) && args(reference)")
		public void count(String reference) {
			this.calls.incrementAndGet();
		}

	}

	static class Outcomes implements IdempotencyOutcomeListener {

		final ConcurrentLinkedQueue<String> tags = new ConcurrentLinkedQueue<>();

		@Override
		public void onOutcome(String operation, IdempotencyOutcome outcome) {
			this.tags.add(operation + " " + outcome.tagValue());
		}

		List<String> since(int counted) {
			List<String> all = List.copyOf(this.tags);
			return all.subList(counted, all.size());
		}

	}

}
