package io.github.idempotency.sample;

import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.util.StringUtils;

/**
 * Makes every Redis connection factory wait for {@link EmbeddedRedisFallback}, so that
 * nothing talks to Redis before the fallback has had its chance to start one.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "sample.embedded-redis.enabled", havingValue = "true", matchIfMissing = true)
class EmbeddedRedisConfiguration {

	static final String BEAN_NAME = "embeddedRedisFallback";

	@Bean(BEAN_NAME)
	EmbeddedRedisFallback embeddedRedisFallback(Environment environment) {
		return new EmbeddedRedisFallback(environment);
	}

	@Bean
	static BeanFactoryPostProcessor redisDependsOnEmbeddedRedis() {
		return (beanFactory) -> {
			for (String name : beanFactory.getBeanNamesForType(RedisConnectionFactory.class, true, false)) {
				BeanDefinition definition = beanFactory.getBeanDefinition(name);
				definition.setDependsOn(StringUtils.addStringToArray(definition.getDependsOn(), BEAN_NAME));
			}
		};
	}

}
