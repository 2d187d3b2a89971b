package io.github.idempotency.autoconfigure;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.store.redis.RedisIdempotencyStore;

import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;

@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(RedisConnectionFactory.class)
@ConditionalOnSingleCandidate(RedisConnectionFactory.class)
@Conditional(StoreCondition.Redis.class)
class RedisStoreConfiguration {

	@Bean
	@ConditionalOnMissingBean(IdempotencyStore.class)
	RedisIdempotencyStore idempotencyStore(RedisConnectionFactory connectionFactory, IdempotencyProperties properties) {
		return new RedisIdempotencyStore(connectionFactory, properties.getKeyPrefix());
	}

}
