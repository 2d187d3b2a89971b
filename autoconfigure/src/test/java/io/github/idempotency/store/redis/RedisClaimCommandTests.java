package io.github.idempotency.store.redis;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.test.RedisProcess;
import io.github.idempotency.test.RedisTestServer;
import org.junit.jupiter.api.Test;
import redis.embedded.RedisServer;

import org.springframework.data.redis.connection.RedisConnection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * How the store claims on each server: the native {@code SET ... NX GET} on Redis 7, the
 * script on Redis 6.2, and the script from then on when a server turns out older than the
 * one first asked.
 */
class RedisClaimCommandTests extends AbstractCommandChoiceTests {

	@Test
	void redis62ShouldBeClaimedWithTheScript() throws Exception {
		RedisServer redis62 = RedisTestServer.startEmbedded(RedisTestServer.freePort());
		try {
			RedisIdempotencyStore store = connect(redis62.ports().get(0));

			assertLifecycle(store, "EVALSHA");
		}
		finally {
			redis62.stop();
		}
	}

	@Test
	void redis7ShouldBeClaimedNatively() throws Exception {
		assumeTrue(RedisProcess.isAvailable(), "redis-server is not installed");
		try (RedisProcess redis7 = RedisProcess.launch()) {
			RedisIdempotencyStore store = connect(redis7.port());
			assumeTrue(redis7.version() >= 7, "the installed redis-server is older than 7.0");

			assertLifecycle(store, "SET");
		}
	}

	@Test
	void serverTurningOutOlderShouldBeClaimedWithTheScriptFromThenOn() throws Exception {
		assumeTrue(RedisProcess.isAvailable(), "redis-server is not installed");
		RedisProcess redis7 = RedisProcess.launch();
		int port = redis7.port();
		RedisServer redis62 = null;
		try {
			assumeTrue(redis7.version() >= 7, "the installed redis-server is older than 7.0");
			RedisIdempotencyStore store = connect(port);
			assertThat(store.claim(UUID.randomUUID().toString(), "fp", Duration.ofSeconds(30)))
				.isInstanceOf(ClaimResult.Claimed.class);
			// A failover to a replica that was not upgraded yet, at the same address.
			redis7.close();
			redis62 = RedisTestServer.startEmbedded(port);

			String key = UUID.randomUUID().toString();
			ClaimResult claim = claimOnceReconnected(store, key);

			assertThat(claim).isInstanceOf(ClaimResult.Claimed.class);
			this.sent.clear();
			assertThat(store.claim(key, "fp", Duration.ofSeconds(30))).isInstanceOf(ClaimResult.InProgress.class);
			assertThat(this.sent).containsExactly("EVALSHA");
		}
		finally {
			redis7.close();
			if (redis62 != null) {
				redis62.stop();
			}
		}
	}

	// Redis 7 refuses the native claim before it reads the key; the script answers.
	@Test
	void keyClaimedOrCompletedBeforeShouldBeAnsweredWhileRedis7TakesNoWrites() throws Exception {
		assumeTrue(RedisProcess.isAvailable(), "redis-server is not installed");
		try (RedisProcess redis7 = RedisProcess.launch()) {
			assumeTrue(redis7.version() >= 7, "the installed redis-server is older than 7.0");
			assertKnownKeysAnsweredWithoutWrites(connect(redis7.port()));
			this.sent.clear();
			connect(redis7.port()).claim(UUID.randomUUID().toString(), "fp", Duration.ofSeconds(30));
			assertThat(this.sent).containsExactly("SET");
		}
	}

	@Test
	void keyClaimedOrCompletedBeforeShouldBeAnsweredWhileRedis62TakesNoWrites() throws Exception {
		RedisServer redis62 = RedisTestServer.startEmbedded(RedisTestServer.freePort());
		try {
			assertKnownKeysAnsweredWithoutWrites(connect(redis62.ports().get(0)));
		}
		finally {
			redis62.stop();
		}
	}

	private void assertKnownKeysAnsweredWithoutWrites(RedisIdempotencyStore store) {
		StoredResponse response = new StoredResponse(201, Map.of(), new byte[] { 1 });
		String completed = UUID.randomUUID().toString();
		String token = ((ClaimResult.Claimed) store.claim(completed, "fp", Duration.ofSeconds(30))).token();
		store.complete(completed, token, response, Duration.ofMinutes(1));
		String running = UUID.randomUUID().toString();
		store.claim(running, "fp", Duration.ofSeconds(30));
		for (String[] noWrites : new String[][] { { "min-replicas-to-write", "1" }, { "maxmemory", "1" } }) {
			configSet(noWrites[0], noWrites[1]);
			try {
				assertThat(store.claim(completed, "fp", Duration.ofSeconds(30)))
					.isEqualTo(new ClaimResult.Completed(response));
				assertThat(store.claim(completed, "other", Duration.ofSeconds(30)))
					.isInstanceOf(ClaimResult.Mismatch.class);
				assertThat(store.claim(running, "fp", Duration.ofSeconds(30)))
					.isInstanceOf(ClaimResult.InProgress.class);
				assertThatExceptionOfType(IdempotencyStoreException.class)
					.isThrownBy(() -> store.claim(UUID.randomUUID().toString(), "fp", Duration.ofSeconds(30)))
					.withMessageContaining(noWrites[0].equals("maxmemory") ? "OOM" : "NOREPLICAS");
			}
			finally {
				configSet(noWrites[0], "0");
			}
		}
	}

	private void configSet(String name, String value) {
		try (RedisConnection connection = this.connectionFactory.getConnection()) {
			connection.serverCommands().setConfig(name, value);
		}
	}

	// Every outcome of a claim, each in one command of the expected kind.
	private void assertLifecycle(RedisIdempotencyStore store, String claimCommand) {
		String key = UUID.randomUUID().toString();
		StoredResponse response = new StoredResponse(201, Map.of("Location", List.of("/a")), new byte[] { 1, 2 });
		// A new server knows no script yet: the first use of each sends it whole.
		String warm = UUID.randomUUID().toString();
		ClaimResult.Claimed warmClaim = (ClaimResult.Claimed) store.claim(warm, "fp", Duration.ofSeconds(30));
		store.complete(warm, warmClaim.token(), response, Duration.ofMinutes(1));
		this.sent.clear();
		String token = ((ClaimResult.Claimed) store.claim(key, "fp", Duration.ofSeconds(30))).token();
		assertThat(store.claim(key, "fp", Duration.ofSeconds(30))).isInstanceOf(ClaimResult.InProgress.class);
		assertThat(store.claim(key, "other", Duration.ofSeconds(30))).isInstanceOf(ClaimResult.Mismatch.class);
		assertThat(store.complete(key, token, response, Duration.ofMinutes(1))).isTrue();
		assertThat(store.claim(key, "fp", Duration.ofSeconds(30))).isEqualTo(new ClaimResult.Completed(response));
		assertThat(this.sent).containsExactly(claimCommand, claimCommand, claimCommand, "EVALSHA", claimCommand);
	}

	// The client reconnects to the new server in the background.
	private static ClaimResult claimOnceReconnected(RedisIdempotencyStore store, String key) throws Exception {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
		while (true) {
			try {
				return store.claim(key, "fp", Duration.ofSeconds(30));
			}
			catch (IdempotencyStoreException ex) {
				if (System.nanoTime() > deadline) {
					throw ex;
				}
				Thread.sleep(100);
			}
		}
	}

}
