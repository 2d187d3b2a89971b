package io.github.idempotency.autoconfigure;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.autoconfigure.IdempotencyProperties.StoreType;
import io.github.idempotency.store.memory.InMemoryIdempotencyStore;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.ClassUtils;

@Configuration(proxyBeanMethods = false)
@ConditionalOnMissingBean(IdempotencyStore.class)
class InMemoryStoreConfiguration {

	private static final Log logger = LogFactory.getLog(InMemoryStoreConfiguration.class);

	@Bean
	InMemoryIdempotencyStore idempotencyStore(IdempotencyProperties properties, ListableBeanFactory beanFactory) {
		StoreType chosen = properties.getStore();
		if (chosen == StoreType.REDIS) {
			throw new IllegalStateException("idempotency.store=redis, but the application has no single"
					+ " RedisConnectionFactory; add spring-boot-starter-data-redis and configure spring.data.redis.*");
		}
		if (chosen == StoreType.JDBC) {
			throw new IllegalStateException("idempotency.store=jdbc, but the application has no single DataSource"
					+ " (or no spring-jdbc); add spring-boot-starter-jdbc and configure spring.datasource.*");
		}
		if (chosen == StoreType.MEMORY) {
			return new InMemoryIdempotencyStore();
		}
		// Several, none of them primary: a shared store was meant, and which one is not
		// for the starter to guess.
		failIfSeveral(beanFactory, "org.springframework.data.redis.connection.RedisConnectionFactory",
				"org.springframework.data.redis.connection.RedisConnectionFactory");
		failIfSeveral(beanFactory, "javax.sql.DataSource", "org.springframework.jdbc.core.JdbcTemplate");
		logger
			.warn("No RedisConnectionFactory or DataSource found: idempotency records are kept in this JVM's memory. Retries that"
					+ " reach another node, or arrive after a restart, will run again. Add spring-boot-starter-data-redis"
					+ " or a DataSource for a shared store, or set idempotency.store=memory to say this is meant.");
		return new InMemoryIdempotencyStore();
	}

	// Looked for only where the store that would use them could have been made.
	private static void failIfSeveral(ListableBeanFactory beanFactory, String beanType, String storeNeeds) {
		ClassLoader classLoader = InMemoryStoreConfiguration.class.getClassLoader();
		if (!ClassUtils.isPresent(beanType, classLoader) || !ClassUtils.isPresent(storeNeeds, classLoader)) {
			return;
		}
		String[] names = beanFactory.getBeanNamesForType(ClassUtils.resolveClassName(beanType, classLoader), true,
				false);
		if (names.length > 1) {
			throw new IllegalStateException("The application has " + names.length + " "
					+ ClassUtils.getShortName(beanType) + " beans (" + String.join(", ", names) + ") and none is"
					+ " @Primary, so idempotency records would be kept in this JVM's memory, where retries that reach"
					+ " another node run again. Mark the one to keep them in @Primary, define an IdempotencyStore"
					+ " bean, or set idempotency.store=memory to say memory is meant.");
		}
	}

}
