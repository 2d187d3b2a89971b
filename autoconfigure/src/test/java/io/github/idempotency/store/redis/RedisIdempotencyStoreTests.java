package io.github.idempotency.store.redis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import io.github.idempotency.contract.AbstractIdempotencyStoreTests;
import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyRecord;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.interceptor.Claim;
import io.github.idempotency.interceptor.Decision;
import io.github.idempotency.interceptor.IdempotencyLifecycle;
import io.github.idempotency.interceptor.IdempotencyPolicy;
import io.github.idempotency.interceptor.IdempotencyPolicy.OnStoreFailure;
import io.github.idempotency.interceptor.IdempotentOperation;
import io.github.idempotency.test.RedisTestServer;
import io.github.idempotency.test.ReplyDroppingProxy;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.event.command.CommandListener;
import io.lettuce.core.event.command.CommandStartedEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.RedisConnectionUtils;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The store contract on the test Redis, claiming the way the store chooses for that
 * server: natively on Redis 7 and later, with the script before.
 */
class RedisIdempotencyStoreTests extends AbstractIdempotencyStoreTests {

	private static LettuceConnectionFactory connectionFactory;

	private static StringRedisTemplate redis;

	private RedisIdempotencyStore store;

	@BeforeAll
	static void connect() {
		connectionFactory = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration(RedisTestServer.host(), RedisTestServer.port()));
		connectionFactory.afterPropertiesSet();
		connectionFactory.start();
		redis = new StringRedisTemplate(connectionFactory);
	}

	@BeforeEach
	void newStore() {
		this.store = new RedisIdempotencyStore(connectionFactory, "store-test", claimsNatively());
	}

	/**
	 * Whether the stores of these tests try the native claim first.
	 */
	protected boolean claimsNatively() {
		return true;
	}

	// What the store sends to claim: SET where the server has SET ... NX GET.
	private String claimCommand() {
		Properties info = redis.execute((RedisCallback<Properties>) (c) -> c.serverCommands().info("server"));
		boolean redis7 = Integer.parseInt(info.getProperty("redis_version").split("\\.")[0]) >= 7;
		return (claimsNatively() && redis7) ? "SET" : "EVALSHA";
	}

	@AfterAll
	static void disconnect() {
		connectionFactory.destroy();
	}

	@Override
	protected IdempotencyStore store() {
		return this.store;
	}

	@Test
	void recordShouldLiveUnderPrefixWithKeyAsHashTag() {
		String key = UUID.randomUUID().toString();
		this.store.claim(key, "fp", Duration.ofSeconds(30));
		String name = "store-test:{" + key + "}";
		assertThat(redis.hasKey(name)).isTrue();
		assertThat(redis.opsForValue().get(name)).startsWith("1 in_progress fp ");
		assertThat(redis.getExpire(name)).isBetween(1L, 30L);
	}

	// The owner token names the claim whole, and Redis compares the record whole: a token
	// with the owner's random part but another claim's time or fingerprint owns nothing.
	@Test
	void tokenNamingAnotherClaimOfSameOwnerShouldChangeNothing() {
		String key = UUID.randomUUID().toString();
		String token = ((ClaimResult.Claimed) this.store.claim(key, "fp", Duration.ofSeconds(30))).token();
		String name = "store-test:{" + key + "}";
		String claim = redis.opsForValue().get(name);
		String[] parts = token.split("/", 3);
		assertThat(parts).hasSize(3).endsWith("fp");
		List<String> forged = List.of(parts[0] + "/" + parts[1] + "/other", parts[0] + "/1/fp",
				parts[0] + "/" + parts[1] + "/fp/", parts[0] + "/" + parts[1]);
		for (String other : forged) {
			StoredResponse response = new StoredResponse(200, Map.of(), new byte[0]);
			assertThat(this.store.complete(key, other, response, Duration.ofHours(1))).as(other).isFalse();
			assertThat(this.store.renew(key, other, Duration.ofHours(1))).as(other).isFalse();
			assertThat(this.store.release(key, other)).as(other).isFalse();
		}
		assertThat(redis.opsForValue().get(name)).isEqualTo(claim);
		assertThat(redis.getExpire(name)).isBetween(1L, 30L);
		assertThat(this.store.complete(key, token, new StoredResponse(200, Map.of(), new byte[0]), Duration.ofHours(1)))
			.isTrue();
	}

	@Test
	void completedRecordShouldExpireAfterRetention() {
		String key = UUID.randomUUID().toString();
		String token = ((ClaimResult.Claimed) this.store.claim(key, "fp", Duration.ofSeconds(30))).token();
		this.store.complete(key, token, new StoredResponse(200, Map.of(), new byte[0]), Duration.ofHours(24));
		long ttl = redis.getExpire("store-test:{" + key + "}");
		assertThat(ttl).isBetween(Duration.ofHours(24).toSeconds() - 5, Duration.ofHours(24).toSeconds());
	}

	@Test
	void claimCompleteAndReplayShouldTakeOneRoundTripEach() {
		LettuceConnectionFactory counted = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration(RedisTestServer.host(), RedisTestServer.port()));
		counted.afterPropertiesSet();
		counted.start();
		List<String> sent = new CopyOnWriteArrayList<>();
		// Listeners attach to connections opened after them, so this one sees every
		// command the store sends.
		((AbstractRedisClient) counted.getRequiredNativeClient()).addListener(new CommandListener() {
			@Override
			public void commandStarted(CommandStartedEvent event) {
				sent.add(event.getCommand().getType().toString());
			}
		});
		try {
			assertOneRoundTripEach(new RedisIdempotencyStore(counted, "store-test", claimsNatively()), sent,
					claimCommand());
		}
		finally {
			counted.destroy();
		}
	}

	private static void assertOneRoundTripEach(RedisIdempotencyStore store, List<String> sent, String claim) {
		String key = UUID.randomUUID().toString();
		// A server without IFEQ refuses the first completion's native command.
		String warm = UUID.randomUUID().toString();
		String warmToken = ((ClaimResult.Claimed) store.claim(warm, "warm", Duration.ofSeconds(30))).token();
		store.complete(warm, warmToken, new StoredResponse(200, Map.of(), new byte[0]), Duration.ofMinutes(1));
		sent.clear();
		String token = ((ClaimResult.Claimed) store.claim(key, "fp", Duration.ofSeconds(30))).token();
		assertThat(sent).containsExactly(claim);
		sent.clear();
		store.complete(key, token, new StoredResponse(201, Map.of("Location", List.of("/a")), new byte[10]),
				Duration.ofMinutes(1));
		// SET ... IFEQ on a server that has it (Redis 8.4, Valkey 8.1), the script on
		// others.
		assertThat(sent).singleElement().isIn("EVALSHA", "SET");
		sent.clear();
		assertThat(store.claim(key, "fp", Duration.ofSeconds(30))).isInstanceOf(ClaimResult.Completed.class);
		assertThat(sent).containsExactly(claim);
	}

	// A fingerprint is compared byte for byte, whether Redis or the store reads the
	// record.
	@Test
	void fingerprintOutsideAsciiShouldBeRecognised() {
		String key = UUID.randomUUID().toString();
		this.store.claim(key, "empreinte-\u00e9", Duration.ofSeconds(30));

		assertThat(this.store.claim(key, "empreinte-\u00e9", Duration.ofSeconds(30)))
			.isInstanceOf(ClaimResult.InProgress.class);
		assertThat(this.store.claim(key, "empreinte-e", Duration.ofSeconds(30)))
			.isInstanceOf(ClaimResult.Mismatch.class);
	}

	@Test
	void claimAfterScriptCacheFlushShouldFallBackToFullScript() {
		redis.execute((RedisCallback<Object>) (connection) -> {
			connection.scriptingCommands().scriptFlush();
			return null;
		});
		assertThat(this.store.claim(UUID.randomUUID().toString(), "fp", Duration.ofSeconds(30)))
			.isInstanceOf(ClaimResult.Claimed.class);
	}

	@Test
	void claimOfRecordInUnknownFormatShouldFailAsStoreError() {
		String key = UUID.randomUUID().toString();
		String foreign = "99 completed fp something else entirely";
		redis.opsForValue().set("store-test:{" + key + "}", foreign);
		assertThatExceptionOfType(IdempotencyStoreException.class)
			.isThrownBy(() -> this.store.claim(key, "fp", Duration.ofSeconds(30)))
			.withMessageContaining("format version '99'");
		assertThatExceptionOfType(IdempotencyStoreException.class).isThrownBy(() -> this.store.find(key))
			.withMessageContaining("format version '99'");
		assertThat(redis.opsForValue().get("store-test:{" + key + "}")).isEqualTo(foreign);
	}

	@Test
	void claimOfRecordInEarlierHashFormatShouldFailAsStoreError() {
		String key = UUID.randomUUID().toString();
		redis.opsForHash().putAll("store-test:{" + key + "}", Map.of("v", "1", "state", "completed", "fp", "fp"));
		assertThatExceptionOfType(IdempotencyStoreException.class)
			.isThrownBy(() -> this.store.claim(key, "fp", Duration.ofSeconds(30)))
			.withMessageContaining("a Redis hash where a string was expected");
		assertThat(redis.opsForHash().get("store-test:{" + key + "}", "v")).isEqualTo("1");
	}

	@Test
	void claimOfRecordFromLaterMinorVersionShouldReadIt() {
		String key = UUID.randomUUID().toString();
		// A later minor appends a field to the first line.
		redis.opsForValue()
			.set("store-test:{" + key + "}",
					"1.7 completed fp - 1700000000000 1700000000500 201 14 added-by-1.7\n" + "Location: /a\r\n{}");
		ClaimResult result = this.store.claim(key, "fp", Duration.ofSeconds(30));
		assertThat(result).isEqualTo(new ClaimResult.Completed(
				new StoredResponse(201, Map.of("Location", List.of("/a")), "{}".getBytes(StandardCharsets.UTF_8))));
		assertThat(this.store.find(key)).isPresent();
	}

	// Another template with transaction support binds its connection to the thread, in
	// MULTI: a store using that connection would have its commands queued, to run at EXEC
	// (or never), and get no reply to decide on.
	@Test
	void storeShouldNotUseAConnectionAnotherTemplateBoundInATransaction() {
		String key = UUID.randomUUID().toString();
		String token = ((ClaimResult.Claimed) this.store.claim(key, "fp", Duration.ofSeconds(30))).token();
		String other = UUID.randomUUID().toString();
		String released = UUID.randomUUID().toString();
		String releasedToken = ((ClaimResult.Claimed) this.store.claim(released, "fp", Duration.ofSeconds(30))).token();
		RedisConnection bound = RedisConnectionUtils.bindConnection(connectionFactory);
		try {
			bound.multi();
			assertThat(this.store.claim(other, "fp", Duration.ofSeconds(30))).isInstanceOf(ClaimResult.Claimed.class);
			assertThat(this.store.complete(key, token, new StoredResponse(200, Map.of(), new byte[0]),
					Duration.ofMinutes(1)))
				.isTrue();
			assertThat(this.store.release(released, releasedToken)).isTrue();
			// Read through the store: the test's template would use the bound connection.
			assertThat(this.store.find(other)).isPresent();
			assertThat(this.store.find(key)).hasValueSatisfying(
					(record) -> assertThat(record.state()).isEqualTo(IdempotencyRecord.State.COMPLETED));
			assertThat(this.store.find(released)).isEmpty();
			bound.exec();
		}
		finally {
			RedisConnectionUtils.unbindConnection(connectionFactory);
		}
		assertThat(this.store.claim(other, "fp", Duration.ofSeconds(30))).isInstanceOf(ClaimResult.InProgress.class);
		assertThat(this.store.claim(key, "fp", Duration.ofSeconds(30))).isInstanceOf(ClaimResult.Completed.class);
		assertThat(this.store.claim(released, "fp", Duration.ofSeconds(30))).isInstanceOf(ClaimResult.Claimed.class);
	}

	// Lettuce sends a command again, after it reconnected, when the connection closed
	// before its reply came: the claim, or the completion, reaches Redis twice.
	@Test
	void claimAndCompletionSentAgainAfterAReconnectShouldCountAsDone() throws IOException {
		assertSentAgainCountsAsDone(RedisTestServer.host(), RedisTestServer.port(), "store-test", claimsNatively(),
				this.store);
	}

	/**
	 * Claims and completes through a proxy that drops the reply to each, so that the
	 * client sends them again once it has reconnected.
	 * @param host the server's host
	 * @param port the server's port
	 * @param prefix the stores' key prefix
	 * @param nativeCommands whether the store tries the native commands
	 * @param direct a store of the same prefix, connected directly, to check with
	 */
	static void assertSentAgainCountsAsDone(String host, int port, String prefix, boolean nativeCommands,
			RedisIdempotencyStore direct) throws IOException {
		try (ReplyDroppingProxy proxy = new ReplyDroppingProxy(host, port)) {
			LettuceConnectionFactory throughProxy = new LettuceConnectionFactory(
					new RedisStandaloneConfiguration("127.0.0.1", proxy.port()));
			throughProxy.afterPropertiesSet();
			throughProxy.start();
			try {
				RedisIdempotencyStore store = new RedisIdempotencyStore(throughProxy, prefix, nativeCommands);
				// Connected, and told which commands the server has, so that what is
				// dropped is the reply to this claim, and then to this completion.
				String first = UUID.randomUUID().toString();
				store.complete(first, ((ClaimResult.Claimed) store.claim(first, "fp", Duration.ofSeconds(30))).token(),
						new StoredResponse(200, Map.of(), new byte[0]), Duration.ofMinutes(1));
				String key = UUID.randomUUID().toString();
				proxy.dropNextReply();
				ClaimResult claim = store.claim(key, "fp", Duration.ofSeconds(30));
				assertThat(proxy.isDropPending()).isFalse();
				assertThat(claim).isInstanceOf(ClaimResult.Claimed.class);
				assertThat(direct.claim(key, "fp", Duration.ofSeconds(30))).isInstanceOf(ClaimResult.InProgress.class);
				proxy.dropNextReply();
				assertThat(store.complete(key, ((ClaimResult.Claimed) claim).token(),
						new StoredResponse(201, Map.of(), "done".getBytes(StandardCharsets.UTF_8)),
						Duration.ofMinutes(1)))
					.isTrue();
				assertThat(proxy.isDropPending()).isFalse();
				assertThat(direct.claim(key, "fp", Duration.ofSeconds(30))).isEqualTo(new ClaimResult.Completed(
						new StoredResponse(201, Map.of(), "done".getBytes(StandardCharsets.UTF_8))));
			}
			finally {
				throughProxy.destroy();
			}
		}
	}

	// A client that does not send a command again after a reconnect fails the completion
	// whose reply was cut, though Redis stored it: the claim's next attempt, on a new
	// connection, finds its own completion there, and the call counts as executed, not as
	// a lease lost. Redis 7 has no native completion: the script's reply is cut.
	@Test
	void completionWhoseReplyWasLostShouldBeFoundStoredByTheNextAttempt() throws IOException {
		assertLostReplyFoundStored(RedisTestServer.host(), RedisTestServer.port(), "store-test", claimsNatively(),
				"EVALSHA", this.store);
	}

	/**
	 * Completes a claim through a proxy that cuts the connection instead of passing on
	 * the reply to the completion, with a client that then fails the command rather than
	 * send it again, and checks that the claim's next attempt counts it as stored.
	 * @param host the server's host
	 * @param port the server's port
	 * @param prefix the stores' key prefix
	 * @param nativeCommands whether the store tries the native commands
	 * @param completion the word the completion's command holds, and no other command
	 * sent after the claim
	 * @param direct a store of the same prefix, connected directly, to check with
	 */
	static void assertLostReplyFoundStored(String host, int port, String prefix, boolean nativeCommands,
			String completion, RedisIdempotencyStore direct) throws IOException {
		try (ReplyDroppingProxy proxy = new ReplyDroppingProxy(host, port)) {
			LettuceConnectionFactory throughProxy = new LettuceConnectionFactory(
					new RedisStandaloneConfiguration("127.0.0.1", proxy.port()),
					LettuceClientConfiguration.builder()
						.clientOptions(ClientOptions.builder().autoReconnect(false).build())
						.build());
			// A cut connection is replaced before the next command, after a PING.
			throughProxy.setValidateConnection(true);
			throughProxy.afterPropertiesSet();
			throughProxy.start();
			List<String> outcomes = new CopyOnWriteArrayList<>();
			IdempotencyLifecycle lifecycle = new IdempotencyLifecycle(
					new RedisIdempotencyStore(throughProxy, prefix, nativeCommands),
					new IdempotencyPolicy(Duration.ofMinutes(1), Duration.ofSeconds(30), false, null,
							Duration.ofMinutes(1), Duration.ZERO, 255, OnStoreFailure.REJECT),
					(operation, outcome) -> outcomes.add(outcome.tagValue()));
			IdempotentOperation operation = new IdempotentOperation("Ledger.book", null, "#p0", true, null, null, null,
					true, false, null, null, List.of(), null, null);
			StoredResponse response = new StoredResponse(201, Map.of(), "booked".getBytes(StandardCharsets.UTF_8));
			try {
				// Told which commands the server has, so that the reply cut is the
				// completion's.
				String first = UUID.randomUUID().toString();
				((Decision.Proceed) lifecycle.begin(operation, "Ledger#book", first, "fp")).claim().complete(response);
				String key = UUID.randomUUID().toString();
				Claim claim = ((Decision.Proceed) lifecycle.begin(operation, "Ledger#book", key, "fp")).claim();
				outcomes.clear();
				proxy.dropReplyTo(completion);
				assertThat(claim.complete(response)).isTrue();
				assertThat(proxy.isDropPending()).isFalse();
				assertThat(outcomes).isEmpty();
				assertThat(direct.claim(key, "fp", Duration.ofSeconds(30)))
					.isEqualTo(new ClaimResult.Completed(response));
			}
			finally {
				lifecycle.close();
				throughProxy.destroy();
			}
		}
	}

	// A stopped connection factory, as while the application shuts down, fails with its
	// own exception, which is not Spring's DataAccessException.
	@Test
	void everyOperationOnAStoppedConnectionFactoryShouldThrowStoreException() {
		LettuceConnectionFactory stopped = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration(RedisTestServer.host(), RedisTestServer.port()));
		stopped.afterPropertiesSet();
		stopped.start();
		RedisIdempotencyStore store = new RedisIdempotencyStore(stopped, "store-test", claimsNatively());
		String key = UUID.randomUUID().toString();
		String token = ((ClaimResult.Claimed) store.claim(key, "fp", Duration.ofSeconds(30))).token();
		stopped.stop();
		try {
			assertThatExceptionOfType(IdempotencyStoreException.class)
				.isThrownBy(() -> store.claim(key, "fp", Duration.ofSeconds(30)));
			assertThatExceptionOfType(IdempotencyStoreException.class).isThrownBy(() -> store.complete(key, token,
					new StoredResponse(200, Map.of(), new byte[0]), Duration.ofMinutes(1)));
			assertThatExceptionOfType(IdempotencyStoreException.class)
				.isThrownBy(() -> store.renew(key, token, Duration.ofSeconds(30)));
			assertThatExceptionOfType(IdempotencyStoreException.class).isThrownBy(() -> store.release(key, token));
			assertThatExceptionOfType(IdempotencyStoreException.class).isThrownBy(() -> store.find(key));
			assertThatExceptionOfType(IdempotencyStoreException.class).isThrownBy(() -> store.delete(key));
		}
		finally {
			stopped.destroy();
		}
	}

	@Test
	void claimWhenRedisIsUnreachableShouldThrowStoreException() throws Exception {
		LettuceConnectionFactory unreachable = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration("127.0.0.1", RedisTestServer.freePort()));
		unreachable.afterPropertiesSet();
		unreachable.start();
		try {
			RedisIdempotencyStore down = new RedisIdempotencyStore(unreachable, "store-test");
			assertThatExceptionOfType(IdempotencyStoreException.class)
				.isThrownBy(() -> down.claim("key", "fp", Duration.ofSeconds(30)));
		}
		finally {
			unreachable.destroy();
		}
	}

}
