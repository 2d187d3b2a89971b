package io.github.idempotency.autoconfigure;

import io.github.idempotency.test.BootLine;
import io.github.idempotency.test.RedisProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Startup against a real Redis whose maxmemory-policy may evict records.
 */
@ExtendWith(OutputCaptureExtension.class)
class RedisEvictionPolicyCheckTests {

	private static RedisProcess redis;

	private WebApplicationContextRunner runner() {
		return new WebApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(IdempotencyAutoConfiguration.class,
					IdempotencyWebMvcAutoConfiguration.class, BootLine.redisAutoConfiguration(),
					BootLine.webMvcAutoConfiguration(), AopAutoConfiguration.class))
			.withPropertyValues("spring.data.redis.url=" + redis.url());
	}

	@BeforeAll
	static void startRedis() throws Exception {
		assumeTrue(RedisProcess.isAvailable(), "redis-server is not installed");
		redis = RedisProcess.launch();
	}

	@AfterAll
	static void stopRedis() {
		if (redis != null) {
			redis.close();
		}
	}

	@Test
	void startWithEvictingPolicyShouldWarn(CapturedOutput output) {
		evicting("allkeys-lru");
		runner().run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(output).contains("Redis may evict idempotency records");
		});
	}

	@Test
	void startWithVolatilePolicyShouldWarnSinceRecordsExpire(CapturedOutput output) {
		evicting("volatile-ttl");
		runner().run((context) -> assertThat(output).contains("Redis may evict idempotency records"));
	}

	@Test
	void startWithEvictingPolicyAndFailCheckShouldFail() {
		evicting("allkeys-random");
		runner().withPropertyValues("idempotency.redis.eviction-check=fail").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).isInstanceOf(IllegalStateException.class)
				.hasMessageContaining("maxmemory-policy to noeviction")
				.hasMessageContaining("idempotency.redis.eviction-check=fail");
		});
	}

	@Test
	void startWithEvictingPolicyAndCheckOffShouldStaySilent(CapturedOutput output) {
		evicting("allkeys-lru");
		runner().withPropertyValues("idempotency.redis.eviction-check=off").run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(output).doesNotContain("Redis may evict idempotency records");
		});
	}

	@Test
	void startWithNoEvictionShouldSayNothing(CapturedOutput output) {
		redis.configSet("maxmemory", "100mb");
		redis.configSet("maxmemory-policy", "noeviction");
		runner().withPropertyValues("idempotency.redis.eviction-check=fail")
			.run((context) -> assertThat(context).hasNotFailed());
		assertThat(output).doesNotContain("Redis may evict idempotency records");
	}

	@Test
	void startWithoutMemoryLimitShouldSayNothing(CapturedOutput output) {
		redis.configSet("maxmemory", "0");
		redis.configSet("maxmemory-policy", "allkeys-lru");
		runner().withPropertyValues("idempotency.redis.eviction-check=fail")
			.run((context) -> assertThat(context).hasNotFailed());
		assertThat(output).doesNotContain("Redis may evict idempotency records");
	}

	private static void evicting(String policy) {
		redis.configSet("maxmemory", "100mb");
		redis.configSet("maxmemory-policy", policy);
	}

}
