package io.github.idempotency.store.jdbc;

import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import io.github.idempotency.test.PostgresTestServer;
import org.junit.jupiter.api.Test;

import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.ConnectionCallback;
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

	// Expired rows are found through the index on expires_at, not by reading the whole
	// table, which a time the statement cannot fix in advance (clock_timestamp()) would
	// force whatever the planner preferred.
	@Test
	void purgeShouldSearchTheIndexOnExpiry() {
		List<String> plan = this.jdbc.execute((ConnectionCallback<List<String>>) (connection) -> {
			try (Statement statement = connection.createStatement()) {
				statement.execute("SET enable_seqscan = off");
				List<String> lines = new ArrayList<>();
				try (ResultSet explained = statement
					.executeQuery("EXPLAIN " + JdbcDialect.POSTGRESQL.purge("store_record").replace("?", "1000"))) {
					while (explained.next()) {
						lines.add(explained.getString(1));
					}
				}
				statement.execute("RESET enable_seqscan");
				return lines;
			}
		});
		assertThat(plan).isNotEmpty().noneMatch((line) -> line.contains("Seq Scan"));
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
