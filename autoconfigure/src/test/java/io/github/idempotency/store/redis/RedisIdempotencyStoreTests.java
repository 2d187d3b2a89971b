package io.github.idempotency.store.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import io.github.idempotency.AbstractIdempotencyStoreTests;
import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.test.RedisTestServer;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.event.command.CommandListener;
import io.lettuce.core.event.command.CommandStartedEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class RedisIdempotencyStoreTests extends AbstractIdempotencyStoreTests {

	private static LettuceConnectionFactory connectionFactory;

	private static RedisIdempotencyStore store;

	private static StringRedisTemplate redis;

	@BeforeAll
	static void connect() {
		connectionFactory = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration(RedisTestServer.host(), RedisTestServer.port()));
		connectionFactory.afterPropertiesSet();
		connectionFactory.start();
		store = new RedisIdempotencyStore(connectionFactory, "store-test");
		redis = new StringRedisTemplate(connectionFactory);
	}

	@AfterAll
	static void disconnect() {
		connectionFactory.destroy();
	}

	@Override
	protected IdempotencyStore store() {
		return store;
	}

	@Test
	void recordShouldLiveUnderPrefixWithKeyAsHashTag() {
		String key = UUID.randomUUID().toString();
		store.claim(key, "fp", Duration.ofSeconds(30));
		String name = "store-test:{" + key + "}";
		assertThat(redis.hasKey(name)).isTrue();
		assertThat(redis.opsForValue().get(name)).startsWith("1 in_progress fp ");
		assertThat(redis.getExpire(name)).isBetween(1L, 30L);
	}

	@Test
	void completedRecordShouldExpireAfterRetention() {
		String key = UUID.randomUUID().toString();
		String token = ((ClaimResult.Claimed) store.claim(key, "fp", Duration.ofSeconds(30))).token();
		store.complete(key, token, new StoredResponse(200, Map.of(), new byte[0]), Duration.ofHours(24));
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
			assertOneRoundTripEach(new RedisIdempotencyStore(counted, "store-test"), sent);
		}
		finally {
			counted.destroy();
		}
	}

	private static void assertOneRoundTripEach(RedisIdempotencyStore store, List<String> sent) {
		String key = UUID.randomUUID().toString();
		store.claim(UUID.randomUUID().toString(), "warm", Duration.ofSeconds(30));
		sent.clear();
		String token = ((ClaimResult.Claimed) store.claim(key, "fp", Duration.ofSeconds(30))).token();
		assertThat(sent).containsExactly("EVALSHA");
		sent.clear();
		store.complete(key, token, new StoredResponse(201, Map.of("Location", List.of("/a")), new byte[10]),
				Duration.ofMinutes(1));
		assertThat(sent).containsExactly("EVALSHA");
		sent.clear();
		store.claim(key, "fp", Duration.ofSeconds(30));
		assertThat(sent).containsExactly("EVALSHA");
	}

	@Test
	void claimAfterScriptCacheFlushShouldFallBackToFullScript() {
		redis.execute((RedisCallback<Object>) (connection) -> {
			connection.scriptingCommands().scriptFlush();
			return null;
		});
		assertThat(store.claim(UUID.randomUUID().toString(), "fp", Duration.ofSeconds(30)))
			.isInstanceOf(ClaimResult.Claimed.class);
	}

	@Test
	void claimOfRecordInUnknownFormatShouldFailAsStoreError() {
		String key = UUID.randomUUID().toString();
		String foreign = "99 completed fp something else entirely";
		redis.opsForValue().set("store-test:{" + key + "}", foreign);
		assertThatExceptionOfType(IdempotencyStoreException.class)
			.isThrownBy(() -> store.claim(key, "fp", Duration.ofSeconds(30)))
			.withMessageContaining("format version '99'");
		assertThatExceptionOfType(IdempotencyStoreException.class).isThrownBy(() -> store.find(key))
			.withMessageContaining("format version '99'");
		assertThat(redis.opsForValue().get("store-test:{" + key + "}")).isEqualTo(foreign);
	}

	@Test
	void claimOfRecordInEarlierHashFormatShouldFailAsStoreError() {
		String key = UUID.randomUUID().toString();
		redis.opsForHash().putAll("store-test:{" + key + "}", Map.of("v", "1", "state", "completed", "fp", "fp"));
		assertThatExceptionOfType(IdempotencyStoreException.class)
			.isThrownBy(() -> store.claim(key, "fp", Duration.ofSeconds(30)))
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
		ClaimResult result = store.claim(key, "fp", Duration.ofSeconds(30));
		assertThat(result).isEqualTo(new ClaimResult.Completed(
				new StoredResponse(201, Map.of("Location", List.of("/a")), "{}".getBytes(StandardCharsets.UTF_8))));
		assertThat(store.find(key)).isPresent();
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
