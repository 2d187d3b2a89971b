package io.github.idempotency.store.jdbc;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyRecord;
import io.github.idempotency.StoredResponse;
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

	// Above read committed, a statement that waited for another write of its row fails
	// once that write commits (a renewal under way when the call completes).
	@Test
	void completionMeetingAnotherWriteOfItsRowAboveReadCommittedShouldBeTriedAgain() throws Exception {
		JdbcIdempotencyStore serializable = JdbcStores.store(
				JdbcStores.dataSource(url() + "&options=-c%20default_transaction_isolation=serializable"),
				"store_record");
		String key = UUID.randomUUID().toString().replace("-", "");
		String token = ((ClaimResult.Claimed) serializable.claim(key, "fp", Duration.ofSeconds(30))).token();
		ExecutorService executor = Executors.newSingleThreadExecutor();
		try (Connection renewal = this.dataSource.getConnection()) {
			renewal.setAutoCommit(false);
			try (Statement statement = renewal.createStatement()) {
				statement.executeUpdate("UPDATE store_record SET expires_at = expires_at + INTERVAL '1 second'"
						+ " WHERE record_key = '" + key + "'");
			}
			Future<Boolean> completion = executor.submit(() -> serializable.complete(key, token,
					new StoredResponse(201, Map.of(), new byte[0]), Duration.ofMinutes(5)));
			awaitWaitingForALock();
			renewal.commit();
			assertThat(completion.get(10, TimeUnit.SECONDS)).isTrue();
		}
		finally {
			executor.shutdownNow();
		}
		assertThat(this.store.find(key))
			.hasValueSatisfying((record) -> assertThat(record.state()).isEqualTo(IdempotencyRecord.State.COMPLETED));
	}

	private void awaitWaitingForALock() throws InterruptedException {
		for (int i = 0; i < 500; i++) {
			Integer waiting = this.jdbc.queryForObject("SELECT COUNT(*) FROM pg_stat_activity"
					+ " WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE store_record%'", Integer.class);
			if (waiting != null && waiting > 0) {
				return;
			}
			Thread.sleep(10);
		}
		throw new AssertionError("The completion never waited for the row");
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
