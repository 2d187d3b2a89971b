package io.github.idempotency.autoconfigure;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.autoconfigure.IdempotencyProperties.Jdbc;
import io.github.idempotency.store.jdbc.JdbcIdempotencyStore;
import io.github.idempotency.store.jdbc.JdbcRecordPurger;
import io.github.idempotency.store.jdbc.JdbcSchemaCheck;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The check of the JDBC store's table at startup and the purge of its expired rows, for
 * the store {@link JdbcStoreConfiguration} builds and for one the application declares
 * itself (on one of several {@code DataSource}s, say), whether it declares it as a
 * {@link JdbcIdempotencyStore} or as any {@link IdempotencyStore}.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(JdbcTemplate.class)
class JdbcStoreMaintenanceConfiguration {

	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnBean(JdbcIdempotencyStore.class)
	JdbcSchemaCheck idempotencyJdbcSchemaCheck(JdbcIdempotencyStore store, IdempotencyProperties properties) {
		return new JdbcSchemaCheck(store, properties.getJdbc().getInitializeSchema() == Jdbc.InitializeSchema.ALWAYS,
				properties.largestOutcome());
	}

	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnBean(JdbcIdempotencyStore.class)
	@Conditional(EnabledCondition.JdbcPurge.class)
	JdbcRecordPurger idempotencyJdbcRecordPurger(JdbcIdempotencyStore store, IdempotencyProperties properties) {
		return new JdbcRecordPurger(store, properties.getJdbc().getPurge().getInterval(),
				properties.getJdbc().getPurge().getBatchSize());
	}

	@Bean
	@ConditionalOnMissingBean({ JdbcIdempotencyStore.class, UntypedJdbcStoreMaintenance.class })
	@ConditionalOnBean(IdempotencyStore.class)
	UntypedJdbcStoreMaintenance idempotencyUntypedJdbcStoreMaintenance(ObjectProvider<IdempotencyStore> stores,
			ObjectProvider<JdbcSchemaCheck> schemaChecks, ObjectProvider<JdbcRecordPurger> purgers,
			IdempotencyProperties properties) {
		return new UntypedJdbcStoreMaintenance(stores, schemaChecks, purgers, properties);
	}

}
