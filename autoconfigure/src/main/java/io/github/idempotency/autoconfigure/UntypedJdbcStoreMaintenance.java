package io.github.idempotency.autoconfigure;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.store.jdbc.JdbcIdempotencyStore;
import io.github.idempotency.store.jdbc.JdbcRecordPurger;
import io.github.idempotency.store.jdbc.JdbcSchemaCheck;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.context.SmartLifecycle;

/**
 * The table check and the purge of a {@link JdbcIdempotencyStore} the application
 * declares as any {@link IdempotencyStore}: bean conditions go by the declared type, so
 * such a store is only known to be one once it exists. Looks at the store the starter
 * uses (the only one, or the primary one); does nothing for any other store, or where the
 * application declares a check or purger of its own, as the conditions of the starter's
 * own check and purger do.
 */
final class UntypedJdbcStoreMaintenance implements SmartInitializingSingleton, SmartLifecycle {

	private final ObjectProvider<IdempotencyStore> stores;

	private final ObjectProvider<JdbcSchemaCheck> schemaChecks;

	private final ObjectProvider<JdbcRecordPurger> purgers;

	private final IdempotencyProperties properties;

	private @Nullable JdbcRecordPurger purger;

	UntypedJdbcStoreMaintenance(ObjectProvider<IdempotencyStore> stores, ObjectProvider<JdbcSchemaCheck> schemaChecks,
			ObjectProvider<JdbcRecordPurger> purgers, IdempotencyProperties properties) {
		this.stores = stores;
		this.schemaChecks = schemaChecks;
		this.purgers = purgers;
		this.properties = properties;
	}

	@Override
	public void afterSingletonsInstantiated() {
		if (!(this.stores.getIfUnique() instanceof JdbcIdempotencyStore store)) {
			return;
		}
		IdempotencyProperties.Jdbc jdbc = this.properties.getJdbc();
		if (this.schemaChecks.stream().findAny().isEmpty()) {
			boolean create = jdbc.getInitializeSchema() == IdempotencyProperties.Jdbc.InitializeSchema.ALWAYS;
			new JdbcSchemaCheck(store, create, this.properties.largestOutcome()).afterSingletonsInstantiated();
		}
		if (jdbc.getPurge().isEnabled() && this.purgers.stream().findAny().isEmpty()) {
			this.purger = new JdbcRecordPurger(store, jdbc.getPurge().getInterval(), jdbc.getPurge().getBatchSize());
		}
	}

	@Override
	public void start() {
		if (this.purger != null) {
			this.purger.start();
		}
	}

	@Override
	public void stop() {
		if (this.purger != null) {
			this.purger.stop();
		}
	}

	@Override
	public boolean isRunning() {
		return this.purger != null && this.purger.isRunning();
	}

}
