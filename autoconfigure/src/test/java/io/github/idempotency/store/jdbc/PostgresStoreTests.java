package io.github.idempotency.store.jdbc;

import io.github.idempotency.test.PostgresTestServer;
import org.junit.jupiter.api.Test;

import org.springframework.dao.DataAccessException;
import org.springframework.transaction.TransactionDefinition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

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

	// PostgreSQL cannot say an aborted transaction's isolation; that is no reason to
	// fail.
	@Test
	void abortedTransactionShouldNotBeJoined() {
		this.transaction.executeWithoutResult((status) -> {
			assertThatExceptionOfType(DataAccessException.class).isThrownBy(() -> this.jdbc.execute("SELECT 1 / 0"));
			assertThat(this.store.canCompleteInCurrentTransaction()).isFalse();
			status.setRollbackOnly();
		});
	}

}
