package io.github.idempotency.method;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.IdempotencyException;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.UnreadableRecordException;
import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.interceptor.RefusalTranslator;
import io.github.idempotency.test.RedisProcess;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A call made again, as a refusal translator asks, whose own claim the store does not
 * answer (its Redis killed): it is made again later, as the translator says, rather than
 * its future failed; one whose record the store cannot read is not.
 */
@SpringBootTest(classes = CalledAgainWhileTheStoreIsDownTests.SettlementApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE,
		properties = { "idempotency.key-prefix=called-again-test", "spring.data.redis.timeout=300ms" })
class CalledAgainWhileTheStoreIsDownTests {

	private static RedisProcess redis;

	@Autowired
	Settlements settlements;

	@Autowired
	Pauses pauses;

	@Autowired
	StringRedisTemplate redisTemplate;

	@Test
	void callMadeAgainThatTheStoreDidNotAnswerShouldBeMadeAgainOnceItAnswers() throws Exception {
		int asked = this.pauses.refusals.size();
		CompletableFuture<String> settled = this.settlements.settle("order-1");
		CompletableFuture<?> first = this.pauses.next();
		assertThat(this.pauses.refusals).hasSize(asked + 1).last().isEqualTo(IdempotentCallInProgressException.class);

		redis.kill();
		first.complete(null);
		assertThat(this.pauses.refusals).hasSize(asked + 2).last().isEqualTo(IdempotencyStoreException.class);
		assertThat(settled).isNotDone();

		redis.start();
		// Lettuce reconnects after a while: until then each call made again fails too.
		await().atMost(Duration.ofSeconds(30)).until(() -> {
			this.pauses.endAny();
			return settled.isDone();
		});
		assertThat(settled).isCompletedWithValue("settled by call 2");
		assertThat(this.settlements.calls("order-1")).isEqualTo(2);
	}

	// No later call reads it either.
	@Test
	void callMadeAgainWhoseRecordTheStoreCannotReadShouldNotBeMadeAgain() throws Exception {
		int asked = this.pauses.refusals.size();
		CompletableFuture<String> settled = this.settlements.settle("order-2");
		CompletableFuture<?> first = this.pauses.next();
		String scope = Settlements.class.getName() + "#settle(java.lang.String)";
		this.redisTemplate.opsForHash()
			.put("called-again-test:{" + Hashing.recordKey(scope, "order-2") + "}", "state", "not a record");
		first.complete(null);
		assertThat(settled).failsWithin(Duration.ofSeconds(5))
			.withThrowableOfType(ExecutionException.class)
			.withCauseInstanceOf(UnreadableRecordException.class);
		assertThat(this.pauses.refusals).hasSize(asked + 1);
		assertThat(this.settlements.calls("order-2")).isOne();
	}

	@DynamicPropertySource
	static void servers(DynamicPropertyRegistry registry) {
		redis = RedisProcess.launchOrSkip();
		registry.add("spring.data.redis.url", redis::url);
	}

	@AfterAll
	static void stopRedis() {
		if (redis != null) {
			redis.close();
		}
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class SettlementApplication {

		@Bean
		Settlements settlements() {
			return new Settlements();
		}

		@Bean
		Pauses pauses() {
			return new Pauses();
		}

	}

	// Reached through its proxy: state is read through methods.
	static class Settlements {

		private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

		// Its work meets a duplicate in progress inside it the first time.
		@Idempotent(key = "#order")
		public CompletableFuture<String> settle(String order) {
			int call = this.calls.computeIfAbsent(order, (key) -> new AtomicInteger()).incrementAndGet();
			return CompletableFuture.supplyAsync(() -> {
				if (call == 1) {
					throw new IdempotentCallInProgressException("A call inside is still running");
				}
				return "settled by call " + call;
			});
		}

		int calls(String order) {
			return this.calls.get(order).get();
		}

	}

	/**
	 * Has every call made again, each pause ending when the test says.
	 */
	static class Pauses implements RefusalTranslator {

		final List<Class<?>> refusals = new CopyOnWriteArrayList<>();

		private final BlockingQueue<CompletableFuture<?>> pending = new LinkedBlockingQueue<>();

		@Override
		public Throwable translate(IdempotencyException refusal, Method method) {
			return refusal;
		}

		@Override
		public @Nullable CompletionStage<?> callAgainLater(IdempotencyException refusal, Method method) {
			this.refusals.add(refusal.getClass());
			CompletableFuture<?> pause = new CompletableFuture<>();
			this.pending.add(pause);
			return pause;
		}

		void endAny() {
			CompletableFuture<?> pause = this.pending.poll();
			if (pause != null) {
				pause.complete(null);
			}
		}

		CompletableFuture<?> next() throws InterruptedException {
			CompletableFuture<?> pause = this.pending.poll(10, TimeUnit.SECONDS);
			assertThat(pause).as("a call to be made again").isNotNull();
			return pause;
		}

	}

}
