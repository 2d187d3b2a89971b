package io.github.idempotency.web;

import io.github.idempotency.test.RedisTestServer;
import io.github.idempotency.web.app.Executions;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * What every web test of the test application shares: a started server on a random port,
 * the test Redis, and the counter of real handler executions. Subclasses carry their own
 * {@code @SpringBootTest} settings.
 */
abstract class AbstractWebTests {

	@LocalServerPort
	protected int port;

	@Autowired
	protected Executions executions;

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
	}

}
