package io.github.idempotency.autoconfigure;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.store.memory.InMemoryIdempotencyStore;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
@ConditionalOnMissingBean(IdempotencyStore.class)
class InMemoryStoreConfiguration {

	private static final Log logger = LogFactory.getLog(InMemoryStoreConfiguration.class);

	@Bean
	InMemoryIdempotencyStore idempotencyStore() {
		logger.warn("No RedisConnectionFactory found: idempotency records are kept in this JVM's memory. Retries that"
				+ " reach another node, or arrive after a restart, will run again. Add spring-boot-starter-data-redis"
				+ " for a shared store.");
		return new InMemoryIdempotencyStore();
	}

}
