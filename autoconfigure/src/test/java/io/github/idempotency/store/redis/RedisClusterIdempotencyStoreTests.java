package io.github.idempotency.store.redis;

import java.time.Duration;
import java.util.Arrays;
import java.util.UUID;

import io.github.idempotency.contract.AbstractIdempotencyStoreTests;
import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.test.RedisClusterProcesses;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.data.redis.connection.RedisClusterConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The store contract on a real six-node Redis Cluster: every script touches one key, so
 * each runs on the node that owns the key's slot, whatever the slot.
 */
class RedisClusterIdempotencyStoreTests extends AbstractIdempotencyStoreTests {

	private static LettuceConnectionFactory connectionFactory;

	private static RedisIdempotencyStore store;

	@BeforeAll
	static void connect() {
		assumeTrue(RedisClusterProcesses.isAvailable(), "redis-server or redis-cli is not installed");
		connectionFactory = new LettuceConnectionFactory(
				new RedisClusterConfiguration(Arrays.asList(RedisClusterProcesses.nodes().split(","))));
		connectionFactory.afterPropertiesSet();
		connectionFactory.start();
		store = new RedisIdempotencyStore(connectionFactory, "cluster-test");
	}

	@AfterAll
	static void disconnect() {
		if (connectionFactory != null) {
			connectionFactory.destroy();
		}
	}

	@Override
	protected IdempotencyStore store() {
		return store;
	}

	@Test
	void keysAcrossAllSlotsShouldWork() {
		for (int i = 0; i < 200; i++) {
			String key = UUID.randomUUID().toString();
			String token = ((ClaimResult.Claimed) store.claim(key, "fp", Duration.ofSeconds(30))).token();
			assertThat(store.release(key, token)).isTrue();
		}
	}

}
