package io.github.idempotency.web;

import io.github.idempotency.test.RedisProcess;
import io.github.idempotency.test.RedisSentinelProcesses;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The whole endpoint behaviour suite again, through Redis Sentinel (one primary, one
 * replica, three Sentinels) configured the usual Spring Data Redis way
 * ({@code spring.data.redis.sentinel.*}).
 */
class SentinelEndpointTests extends IdempotentEndpointTests {

	@Autowired
	private LettuceConnectionFactory connectionFactory;

	@BeforeAll
	static void requireRedisServer() {
		assumeTrue(RedisProcess.isAvailable(), "redis-server is not installed");
	}

	@DynamicPropertySource
	static void sentinel(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.sentinel.master", () -> RedisSentinelProcesses.MASTER_NAME);
		registry.add("spring.data.redis.sentinel.nodes", () -> RedisSentinelProcesses.shared().sentinelNodes());
	}

	@Test
	void applicationShouldTalkThroughTheSentinels() {
		assertThat(this.connectionFactory.getSentinelConfiguration()).isNotNull();
		assertThat(this.connectionFactory.getSentinelConfiguration().getMaster().getName())
			.isEqualTo(RedisSentinelProcesses.MASTER_NAME);
	}

}
