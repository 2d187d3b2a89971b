package io.github.idempotency.autoconfigure;

import javax.sql.DataSource;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.store.jdbc.JdbcIdempotencyStore;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

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

	private static final Log logger = LogFactory.getLog(JdbcStoreConfiguration.class);

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
		String table = properties.getJdbc().getTableName();
		if (!properties.getKeyPrefix().equals(IdempotencyProperties.DEFAULT_KEY_PREFIX)) {
			// Set as the getting-started guide sets it for Redis, it may be taken to keep
			// applications apart: a key sent to two of them on the same route would
			// replay the first one's response in the second.
			logger.warn("idempotency.key-prefix is set, but it names Redis keys only: records are kept in the table "
					+ table + ", shared by every application that uses it. Give each application its own table"
					+ " (idempotency.jdbc.table-name) unless they are meant to share records");
		}
		return new JdbcIdempotencyStore(dataSource, table);
	}

}
