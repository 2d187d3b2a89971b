package io.github.idempotency.sample;

import org.springframework.boot.autoconfigure.AbstractDependsOnBeanFactoryPostProcessor;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.data.redis.RedisConnectionDetails;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;

/**
 * Makes every Redis connection factory wait for {@link EmbeddedRedisFallback}, so that
 * nothing talks to Redis before the fallback has had its chance to start one.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "sample.embedded-redis.enabled", havingValue = "true", matchIfMissing = true)
class EmbeddedRedisConfiguration {

	static final String BEAN_NAME = "embeddedRedisFallback";

	@Bean(BEAN_NAME)
	EmbeddedRedisFallback embeddedRedisFallback(RedisConnectionDetails connectionDetails) {
		return new EmbeddedRedisFallback(connectionDetails);
	}

	@Bean
	static AbstractDependsOnBeanFactoryPostProcessor redisDependsOnEmbeddedRedis() {
		return new AbstractDependsOnBeanFactoryPostProcessor(RedisConnectionFactory.class, BEAN_NAME) {
		};
	}

}
