package io.github.idempotency.autoconfigure;

import javax.sql.DataSource;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.store.jdbc.JdbcIdempotencyStore;

import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The JDBC store, on the application's single {@link DataSource}: chosen with
 * {@code idempotency.store=jdbc}, or when no Redis store was configured before it.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(JdbcTemplate.class)
@ConditionalOnSingleCandidate(DataSource.class)
@Conditional(StoreCondition.Jdbc.class)
class JdbcStoreConfiguration {

	@Bean
	@ConditionalOnMissingBean(IdempotencyStore.class)
	JdbcIdempotencyStore idempotencyStore(DataSource dataSource, IdempotencyProperties properties) {
		return new JdbcIdempotencyStore(dataSource, properties.getJdbc().getTableName());
	}

}
