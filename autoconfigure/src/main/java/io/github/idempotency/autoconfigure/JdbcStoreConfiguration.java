package io.github.idempotency.autoconfigure;

import javax.sql.DataSource;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.store.jdbc.JdbcIdempotencyStore;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The JDBC store, on the application's single {@link DataSource}: chosen with
 * {@code idempotency.store=jdbc}, or when no Redis store was configured before it (and
 * the application has not several Redis connection factories, not one of them primary).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(JdbcTemplate.class)
@ConditionalOnSingleCandidate(DataSource.class)
@Conditional(StoreCondition.Jdbc.class)
class JdbcStoreConfiguration {

	@Bean
	@ConditionalOnMissingBean(IdempotencyStore.class)
	JdbcIdempotencyStore idempotencyStore(DataSource dataSource, IdempotencyProperties properties,
			ListableBeanFactory beanFactory) {
		if (properties.getStore() == null) {
			// Redis comes first when nothing is chosen: with several factories, the one
			// meant was most likely one of them.
			StoreCandidates.failIfSeveral(beanFactory, StoreCandidates.REDIS, StoreCandidates.REDIS,
					"idempotency records would be kept in the DataSource instead",
					"set idempotency.store=jdbc to keep them there");
		}
		return new JdbcIdempotencyStore(dataSource, properties.getJdbc().getTableName());
	}

}
