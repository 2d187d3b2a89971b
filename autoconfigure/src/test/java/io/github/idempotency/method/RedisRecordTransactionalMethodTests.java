package io.github.idempotency.method;

import io.github.idempotency.test.RedisTestServer;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Records in Redis: kept once the caller's transaction has committed.
 */
class RedisRecordTransactionalMethodTests extends AbstractTransactionalMethodTests {

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
	}

}
