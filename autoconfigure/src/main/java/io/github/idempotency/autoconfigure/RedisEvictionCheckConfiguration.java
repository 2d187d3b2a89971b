package io.github.idempotency.autoconfigure;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.store.redis.RedisEvictionPolicyCheck;
import io.github.idempotency.store.redis.RedisIdempotencyStore;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;

/**
 * Checks the eviction policy of the Redis that holds the records, for the store
 * {@link RedisStoreConfiguration} builds and for one the application declares itself:
 * beside several connection factories (where the starter builds none), or declared as any
 * {@link IdempotencyStore}. Bean conditions go by the type a bean is declared with, so
 * the store is looked at once every singleton exists.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(RedisConnectionFactory.class)
class RedisEvictionCheckConfiguration {

	@Bean
	@ConditionalOnMissingBean({ RedisEvictionPolicyCheck.class, StoreEvictionCheck.class })
	@ConditionalOnBean(IdempotencyStore.class)
	StoreEvictionCheck idempotencyRedisEvictionCheck(ObjectProvider<IdempotencyStore> stores,
			IdempotencyProperties properties) {
		return new StoreEvictionCheck(stores, properties.getRedis().getEvictionCheck());
	}

	static class StoreEvictionCheck implements SmartInitializingSingleton {

		private final ObjectProvider<IdempotencyStore> stores;

		private final RedisEvictionPolicyCheck.Action action;

		StoreEvictionCheck(ObjectProvider<IdempotencyStore> stores, RedisEvictionPolicyCheck.Action action) {
			this.stores = stores;
			this.action = action;
		}

		@Override
		public void afterSingletonsInstantiated() {
			// The store's Redis, which need not be the application's primary one.
			if (this.stores.getIfUnique() instanceof RedisIdempotencyStore store) {
				new RedisEvictionPolicyCheck(store.connectionFactory(), this.action).afterSingletonsInstantiated();
			}
		}

	}

}
