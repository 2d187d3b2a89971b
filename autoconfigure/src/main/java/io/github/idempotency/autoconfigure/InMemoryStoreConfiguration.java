package io.github.idempotency.autoconfigure;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.autoconfigure.IdempotencyProperties.StoreType;
import io.github.idempotency.store.memory.InMemoryIdempotencyStore;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
@ConditionalOnMissingBean(IdempotencyStore.class)
class InMemoryStoreConfiguration {

	private static final Log logger = LogFactory.getLog(InMemoryStoreConfiguration.class);

	@Bean
	InMemoryIdempotencyStore idempotencyStore(IdempotencyProperties properties, ListableBeanFactory beanFactory) {
		StoreType chosen = properties.getStore();
		if (chosen == StoreType.REDIS) {
			throw chosenWithoutOne("redis",
					StoreCandidates.several(beanFactory, StoreCandidates.REDIS, StoreCandidates.REDIS),
					"no RedisConnectionFactory; add spring-boot-starter-data-redis and configure spring.data.redis.*");
		}
		if (chosen == StoreType.JDBC) {
			throw chosenWithoutOne("jdbc",
					StoreCandidates.several(beanFactory, StoreCandidates.DATA_SOURCE, StoreCandidates.JDBC_TEMPLATE),
					"no DataSource (or no spring-jdbc); add spring-boot-starter-jdbc and configure spring.datasource.*");
		}
		if (chosen == StoreType.MEMORY) {
			return new InMemoryIdempotencyStore();
		}
		String inMemory = "idempotency records would be kept in this JVM's memory, where retries that reach another"
				+ " node run again";
		String memoryMeant = "set idempotency.store=memory to say memory is meant";
		StoreCandidates.failIfSeveral(beanFactory, StoreCandidates.REDIS, StoreCandidates.REDIS, inMemory, memoryMeant);
		StoreCandidates.failIfSeveral(beanFactory, StoreCandidates.DATA_SOURCE, StoreCandidates.JDBC_TEMPLATE, inMemory,
				memoryMeant);
		logger
			.warn("No RedisConnectionFactory or DataSource found: idempotency records are kept in this JVM's memory. Retries that"
					+ " reach another node, or arrive after a restart, will run again. Add spring-boot-starter-data-redis"
					+ " or a DataSource for a shared store, or set idempotency.store=memory to say this is meant.");
		return new InMemoryIdempotencyStore();
	}

	// The store chosen could not be made: several candidates, or none.
	private static IllegalStateException chosenWithoutOne(String store, @Nullable String several, String none) {
		return new IllegalStateException("idempotency.store=" + store + ", but "
				+ ((several != null) ? several + ". Mark the one to keep idempotency records in @Primary, or define an"
						+ " IdempotencyStore bean" : "the application has " + none));
	}

}
