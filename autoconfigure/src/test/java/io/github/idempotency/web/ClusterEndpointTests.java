package io.github.idempotency.web;

import io.github.idempotency.test.RedisClusterProcesses;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.redis.connection.RedisClusterConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The whole endpoint behaviour suite again, on a real six-node Redis Cluster configured
 * the usual Spring Data Redis way ({@code spring.data.redis.cluster.nodes}).
 */
class ClusterEndpointTests extends IdempotentEndpointTests {

	@BeforeAll
	static void requireCluster() {
		assumeTrue(RedisClusterProcesses.isAvailable(), "redis-server or redis-cli is not installed");
	}

	@Autowired
	private RedisConnectionFactory connectionFactory;

	@DynamicPropertySource
	static void cluster(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.cluster.nodes", RedisClusterProcesses::nodes);
	}

	@Test
	void applicationShouldTalkToTheCluster() {
		assertThat(this.connectionFactory.getConnection()).isInstanceOf(RedisClusterConnection.class);
	}

}
