package io.github.idempotency.store.redis;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.test.RedisProcess;
import io.github.idempotency.test.RedisTestServer;
import org.junit.jupiter.api.Test;
import redis.embedded.RedisServer;

import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * How the store completes on each server: the native {@code SET ... IFEQ} where the
 * server has it (Valkey 8.1 here), and the script from the first refusal on where it does
 * not (Redis 7 and 6.2).
 */
class RedisCompletionCommandTests extends AbstractCommandChoiceTests {

	private static final StoredResponse RESPONSE = new StoredResponse(201, Map.of("Location", List.of("/a")),
			new byte[] { 0, 1, (byte) 0xff, '\r', '\n' });

	@Test
	void valkeyShouldBeCompletedNatively() throws Exception {
		assumeTrue(RedisProcess.valkeyServer() != null, RedisProcess.VALKEY_VARIABLE + " is not set");
		try (RedisProcess valkey = RedisProcess.launchValkey()) {
			RedisIdempotencyStore store = connect(valkey.port());
			String key = UUID.randomUUID().toString();
			String token = ((ClaimResult.Claimed) store.claim(key, "fp", Duration.ofSeconds(30))).token();
			this.sent.clear();

			assertThat(store.complete(key, token, RESPONSE, Duration.ofMinutes(1))).isTrue();

			assertThat(this.sent).containsExactly("SET");
			assertThat(store.claim(key, "fp", Duration.ofSeconds(30))).isEqualTo(new ClaimResult.Completed(RESPONSE));
		}
	}

	// IFEQ writes only over the claim itself: never where there is no record, nor over a
	// completed one or another request's claim. Each completion it refuses goes to the
	// script, which tells a completion under the same claim (tried again, or sent again
	// after a reconnect, and stored by the first) from a lease lost, and stores nothing
	// either.
	@Test
	void valkeyShouldCompleteNothingButTheClaim() throws Exception {
		assumeTrue(RedisProcess.valkeyServer() != null, RedisProcess.VALKEY_VARIABLE + " is not set");
		try (RedisProcess valkey = RedisProcess.launchValkey()) {
			RedisIdempotencyStore store = connect(valkey.port());
			StringRedisTemplate redis = new StringRedisTemplate(this.connectionFactory);
			String key = UUID.randomUUID().toString();
			String name = store.redisKey(key);
			String stale = ((ClaimResult.Claimed) store.claim(key, "fp", Duration.ofMillis(100))).token();
			Thread.sleep(200);
			assertThat(store.complete(key, stale, RESPONSE, Duration.ofMinutes(1))).isFalse();
			assertThat(redis.hasKey(name)).isFalse();

			String owner = ((ClaimResult.Claimed) store.claim(key, "fp", Duration.ofSeconds(30))).token();
			String claim = redis.opsForValue().get(name);
			assertThat(store.complete(key, stale, RESPONSE, Duration.ofMinutes(1))).isFalse();
			assertThat(redis.opsForValue().get(name)).isEqualTo(claim);
			assertThat(redis.getExpire(name)).isBetween(1L, 30L);

			assertThat(store.complete(key, owner, RESPONSE, Duration.ofMinutes(1))).isTrue();
			String completed = redis.opsForValue().get(name);
			assertThat(store.complete(key, owner, new StoredResponse(200, Map.of(), new byte[0]), Duration.ofHours(1)))
				.isTrue();
			assertThat(store.complete(key, stale, RESPONSE, Duration.ofMinutes(1))).isFalse();
			assertThat(redis.opsForValue().get(name)).isEqualTo(completed);
			assertThat(redis.getExpire(name)).isBetween(1L, 60L);
			assertThat(this.sent).contains("EVALSHA");
		}
	}

	// Refused for the key, not for the server: the script reports it, and the next
	// completion is native again.
	@Test
	void valkeyRefusingOneKeyShouldStillBeCompletedNatively() throws Exception {
		assumeTrue(RedisProcess.valkeyServer() != null, RedisProcess.VALKEY_VARIABLE + " is not set");
		try (RedisProcess valkey = RedisProcess.launchValkey()) {
			RedisIdempotencyStore store = connect(valkey.port());
			StringRedisTemplate redis = new StringRedisTemplate(this.connectionFactory);
			String key = UUID.randomUUID().toString();
			String token = ((ClaimResult.Claimed) store.claim(key, "fp", Duration.ofSeconds(30))).token();
			redis.delete(store.redisKey(key));
			redis.opsForHash().put(store.redisKey(key), "field", "value");
			this.sent.clear();

			// The server's own reason, not only Spring's "Error in execution".
			assertThatExceptionOfType(IdempotencyStoreException.class)
				.isThrownBy(() -> store.complete(key, token, RESPONSE, Duration.ofMinutes(1)))
				.withMessageContaining("WRONGTYPE");

			assertThat(this.sent).startsWith("SET", "EVALSHA");
			assertThat(redis.opsForHash().get(store.redisKey(key), "field")).isEqualTo("value");
			String next = UUID.randomUUID().toString();
			String nextToken = ((ClaimResult.Claimed) store.claim(next, "fp", Duration.ofSeconds(30))).token();
			this.sent.clear();
			assertThat(store.complete(next, nextToken, RESPONSE, Duration.ofMinutes(1))).isTrue();
			assertThat(this.sent).containsExactly("SET");
		}
	}

	@Test
	void redis7ShouldBeCompletedWithTheScriptFromTheFirstRefusalOn() throws Exception {
		assumeTrue(RedisProcess.isAvailable(), "redis-server is not installed");
		try (RedisProcess redis7 = RedisProcess.launch()) {
			assertScriptFromTheFirstRefusalOn(connect(redis7.port()));
		}
	}

	@Test
	void redis62ShouldBeCompletedWithTheScriptFromTheFirstRefusalOn() throws Exception {
		RedisServer redis62 = RedisTestServer.startEmbedded(RedisTestServer.freePort());
		try {
			assertScriptFromTheFirstRefusalOn(connect(redis62.ports().get(0)));
		}
		finally {
			redis62.stop();
		}
	}

	private void assertScriptFromTheFirstRefusalOn(RedisIdempotencyStore store) {
		String first = UUID.randomUUID().toString();
		String token = ((ClaimResult.Claimed) store.claim(first, "fp", Duration.ofSeconds(30))).token();
		this.sent.clear();
		assertThat(store.complete(first, token, RESPONSE, Duration.ofMinutes(1))).isTrue();
		// Refused, then the script: by SHA, and whole when the server does not know it
		// yet.
		assertThat(this.sent).startsWith("SET", "EVALSHA").doesNotHaveDuplicates();
		assertThat(store.claim(first, "fp", Duration.ofSeconds(30))).isEqualTo(new ClaimResult.Completed(RESPONSE));

		String second = UUID.randomUUID().toString();
		token = ((ClaimResult.Claimed) store.claim(second, "fp", Duration.ofSeconds(30))).token();
		this.sent.clear();
		assertThat(store.complete(second, token, RESPONSE, Duration.ofMinutes(1))).isTrue();
		assertThat(this.sent).containsExactly("EVALSHA");
	}

}
