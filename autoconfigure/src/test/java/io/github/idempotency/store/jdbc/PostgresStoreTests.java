package io.github.idempotency.store.jdbc;

import io.github.idempotency.test.PostgresTestServer;
import org.junit.jupiter.api.Test;

import org.springframework.transaction.TransactionDefinition;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JDBC store on PostgreSQL.
 */
class PostgresStoreTests extends AbstractJdbcStoreTests {

	@Override
	protected String url() {
		return PostgresTestServer.url();
	}

	@Override
	protected void createSchema(String name) {
		this.jdbc.execute("CREATE SCHEMA IF NOT EXISTS " + name);
	}

	// A snapshot taken before the claim committed would not see the claim's row.
	@Test
	void repeatableReadTransactionShouldNotBeJoined() {
		this.transaction.setIsolationLevel(TransactionDefinition.ISOLATION_REPEATABLE_READ);
		this.transaction
			.executeWithoutResult((status) -> assertThat(this.store.canCompleteInCurrentTransaction()).isFalse());
		this.transaction.setIsolationLevel(TransactionDefinition.ISOLATION_READ_COMMITTED);
		this.transaction
			.executeWithoutResult((status) -> assertThat(this.store.canCompleteInCurrentTransaction()).isTrue());
	}

}
