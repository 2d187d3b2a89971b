package io.github.idempotency.autoconfigure;

import java.lang.reflect.Proxy;
import java.time.Duration;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.store.redis.RedisEvictionPolicyCheck;
import io.github.idempotency.store.redis.RedisIdempotencyStore;
import io.github.idempotency.test.BootLine;
import io.github.idempotency.test.RedisClusterProcesses;
import io.github.idempotency.test.RedisProcess;
import io.github.idempotency.test.RedisTestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Startup against a real Redis whose maxmemory-policy may evict records.
 */
@ExtendWith(OutputCaptureExtension.class)
class RedisEvictionPolicyCheckTests {

	private static RedisProcess redis;

	private WebApplicationContextRunner runner() {
		return runner("spring.data.redis.url=" + redis.url());
	}

	private WebApplicationContextRunner runner(String redisProperty) {
		return new WebApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(IdempotencyAutoConfiguration.class,
					IdempotencyWebMvcAutoConfiguration.class, BootLine.redisAutoConfiguration(),
					BootLine.webMvcAutoConfiguration(), AopAutoConfiguration.class))
			.withPropertyValues(redisProperty);
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

	// A test of the application's that replaces the factory with a mock, which hands out
	// no connection: the check gives up, as when Redis does not answer.
	@Test
	void factoryThatHandsOutNoConnectionShouldNotFailStartup() {
		RedisConnectionFactory mock = (RedisConnectionFactory) Proxy.newProxyInstance(getClass().getClassLoader(),
				new Class<?>[] { RedisConnectionFactory.class }, (proxy, method, arguments) -> null);
		new ApplicationContextRunner()
			.withBean(RedisEvictionPolicyCheck.class,
					() -> new RedisEvictionPolicyCheck(mock, RedisEvictionPolicyCheck.Action.WARN))
			.run((context) -> assertThat(context).hasNotFailed());
	}

	// On a thread of its own: startup does not wait for a warning.
	@Test
	void startWithEvictingPolicyShouldWarn(CapturedOutput output) {
		evicting("allkeys-lru");
		runner().run((context) -> {
			assertThat(context).hasNotFailed();
			// Logged from the check's own thread, whose name the console pattern of
			// Spring Boot cuts to its last 15 characters.
			await().atMost(Duration.ofSeconds(10))
				.until(() -> output.toString()
					.lines()
					.anyMatch((line) -> line.contains("eviction-check]")
							&& line.contains("Redis may evict idempotency records")));
		});
	}

	@Test
	void startWithVolatilePolicyShouldWarnSinceRecordsExpire(CapturedOutput output) {
		evicting("volatile-ttl");
		runner().run((context) -> awaitOutput(output, "Redis may evict idempotency records"));
	}

	private static void awaitOutput(CapturedOutput output, String text) {
		await().atMost(Duration.ofSeconds(10)).until(() -> output.toString().contains(text));
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

	// A cache on the application's primary Redis, the records on another: the records'
	// Redis is the one that must not evict.
	@Test
	void storeOnAnotherRedisThanThePrimaryShouldHaveItsOwnRedisChecked() {
		evicting("allkeys-lru");
		runner().withPropertyValues("idempotency.redis.eviction-check=fail")
			.withUserConfiguration(CacheOnEvictingRedis.class)
			.run((context) -> assertThat(context).hasNotFailed());
		runner().withPropertyValues("idempotency.redis.eviction-check=fail")
			.withUserConfiguration(RecordsOnEvictingRedis.class)
			.run((context) -> assertThat(context).getFailure().hasMessageContaining("maxmemory-policy to noeviction"));
	}

	// Declared as any store, beside two factories neither of which is primary (where the
	// starter builds no store), or wrapped in a store of the application's: the bean
	// conditions cannot see any of them is Redis's.
	@Test
	void storeTheApplicationDeclaresShouldHaveItsRedisChecked() {
		evicting("allkeys-lru");
		runner().withPropertyValues("idempotency.redis.eviction-check=fail")
			.withUserConfiguration(StoreDeclaredAsAnyStore.class)
			.run((context) -> assertThat(context).getFailure().hasMessageContaining("maxmemory-policy to noeviction"));
		runner().withPropertyValues("idempotency.redis.eviction-check=fail")
			.withUserConfiguration(RecordsOnEvictingRedisBesideAnother.class)
			.run((context) -> assertThat(context).getFailure().hasMessageContaining("maxmemory-policy to noeviction"));
		runner().withPropertyValues("idempotency.redis.eviction-check=fail")
			.withUserConfiguration(WrappedStore.class)
			.run((context) -> assertThat(context).getFailure().hasMessageContaining("maxmemory-policy to noeviction"));
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

	// As managed services that evict by default refuse CONFIG.
	@Test
	void redisRefusingToSayShouldWarnOrFailAsTheCheckSays(CapturedOutput output) throws Exception {
		try (RedisProcess refusing = RedisProcess.launch("--rename-command", "CONFIG", "\"\"")) {
			runner("spring.data.redis.url=" + refusing.url()).run((context) -> {
				assertThat(context).hasNotFailed();
				awaitOutput(output, "Redis refused to say whether it may evict idempotency records");
			});
			runner("spring.data.redis.url=" + refusing.url())
				.withPropertyValues("idempotency.redis.eviction-check=fail")
				.run((context) -> assertThat(context.getStartupFailure()).isInstanceOf(IllegalStateException.class)
					.hasMessageContaining("Redis refused to say whether it may evict idempotency records")
					.hasMessageContaining("idempotency.redis.eviction-check=fail"));
		}
	}

	// A cluster connection reads the settings of every node; a node evicts only under a
	// limit of its own.
	@Test
	void startOnAClusterShouldTellEachNodeThatMayEvict(CapturedOutput output) {
		assumeTrue(RedisClusterProcesses.isAvailable(), "redis-server or redis-cli is not installed");
		String cluster = "spring.data.redis.cluster.nodes=" + RedisClusterProcesses.nodes();
		try {
			RedisClusterProcesses.configSet(0, "maxmemory", "100mb");
			RedisClusterProcesses.configSet(1, "maxmemory-policy", "allkeys-lru");
			runner(cluster).withPropertyValues("idempotency.redis.eviction-check=fail")
				.run((context) -> assertThat(context).hasNotFailed());
			assertThat(output).doesNotContain("Redis may evict idempotency records");

			RedisClusterProcesses.configSet(2, "maxmemory", "100mb");
			RedisClusterProcesses.configSet(2, "maxmemory-policy", "volatile-lru");
			runner(cluster).run((context) -> awaitOutput(output, "Redis may evict idempotency records (127.0.0.1:"
					+ RedisClusterProcesses.port(2) + ": maxmemory 104857600, maxmemory-policy volatile-lru);"));
		}
		finally {
			for (int node = 0; node < RedisClusterProcesses.size(); node++) {
				RedisClusterProcesses.configSet(node, "maxmemory", "0");
				RedisClusterProcesses.configSet(node, "maxmemory-policy", "noeviction");
			}
		}
	}

	private static LettuceConnectionFactory factory(int port) {
		return new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", port));
	}

	@Configuration(proxyBeanMethods = false)
	static class CacheOnEvictingRedis {

		@Bean
		@Primary
		LettuceConnectionFactory cacheRedis() {
			return factory(redis.port());
		}

		@Bean
		LettuceConnectionFactory recordsRedis() {
			return new LettuceConnectionFactory(
					new RedisStandaloneConfiguration(RedisTestServer.host(), RedisTestServer.port()));
		}

		@Bean
		RedisIdempotencyStore idempotencyStore(@Qualifier("recordsRedis") RedisConnectionFactory records) {
			return new RedisIdempotencyStore(records, "eviction-check-test");
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class RecordsOnEvictingRedis extends RecordsOnEvictingRedisBesideAnother {

		@Override
		@Bean
		@Primary
		LettuceConnectionFactory cacheRedis() {
			return super.cacheRedis();
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class StoreDeclaredAsAnyStore {

		@Bean
		IdempotencyStore idempotencyStore(RedisConnectionFactory redis) {
			return new RedisIdempotencyStore(redis, "eviction-check-test");
		}

	}

	// A store of the application's that counts what it delegates, say.
	@Configuration(proxyBeanMethods = false)
	static class WrappedStore {

		@Bean
		RedisIdempotencyStore redisStore(RedisConnectionFactory redis) {
			return new RedisIdempotencyStore(redis, "eviction-check-test");
		}

		@Bean
		@Primary
		IdempotencyStore idempotencyStore(RedisIdempotencyStore redis) {
			return (IdempotencyStore) Proxy.newProxyInstance(getClass().getClassLoader(),
					new Class<?>[] { IdempotencyStore.class },
					(proxy, method, arguments) -> method.invoke(redis, arguments));
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class RecordsOnEvictingRedisBesideAnother {

		@Bean
		LettuceConnectionFactory cacheRedis() {
			return new LettuceConnectionFactory(
					new RedisStandaloneConfiguration(RedisTestServer.host(), RedisTestServer.port()));
		}

		@Bean
		LettuceConnectionFactory recordsRedis() {
			return factory(redis.port());
		}

		@Bean
		RedisIdempotencyStore idempotencyStore(@Qualifier("recordsRedis") RedisConnectionFactory records) {
			return new RedisIdempotencyStore(records, "eviction-check-test");
		}

	}

	private static void evicting(String policy) {
		redis.configSet("maxmemory", "100mb");
		redis.configSet("maxmemory-policy", policy);
	}

}
