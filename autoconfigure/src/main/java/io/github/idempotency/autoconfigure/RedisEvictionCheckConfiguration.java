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
 * beside several connection factories (where the starter builds none), declared as any
 * {@link IdempotencyStore}, or wrapped in a store of its own. Bean conditions go by the
 * type a bean is declared with, so the stores are looked at once every singleton exists.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(RedisConnectionFactory.class)
class RedisEvictionCheckConfiguration {

	@Bean
	@ConditionalOnMissingBean({ RedisEvictionPolicyCheck.class, StoreEvictionCheck.class })
	@ConditionalOnBean(IdempotencyStore.class)
	StoreEvictionCheck idempotencyRedisEvictionCheck(ObjectProvider<IdempotencyStore> stores,
			ObjectProvider<RedisIdempotencyStore> redisStores, IdempotencyProperties properties) {
		return new StoreEvictionCheck(stores, redisStores, properties.getRedis().getEvictionCheck());
	}

	static class StoreEvictionCheck implements SmartInitializingSingleton {

		private final ObjectProvider<IdempotencyStore> stores;

		private final ObjectProvider<RedisIdempotencyStore> redisStores;

		private final RedisEvictionPolicyCheck.Action action;

		StoreEvictionCheck(ObjectProvider<IdempotencyStore> stores, ObjectProvider<RedisIdempotencyStore> redisStores,
				RedisEvictionPolicyCheck.Action action) {
			this.stores = stores;
			this.redisStores = redisStores;
			this.action = action;
		}

		@Override
		public void afterSingletonsInstantiated() {
			// The store the application uses, else the one Redis store it has, which a
			// store of its own (one that counts or logs, say) may wrap.
			RedisIdempotencyStore store = (this.stores.getIfUnique() instanceof RedisIdempotencyStore used) ? used
					: this.redisStores.getIfUnique();
			if (store != null) {
				// The store's Redis, which need not be the application's primary one.
				new RedisEvictionPolicyCheck(store.connectionFactory(), this.action).afterSingletonsInstantiated();
			}
		}

	}

}
