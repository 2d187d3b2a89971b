package io.github.idempotency.store.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyRecord;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.interceptor.Claim;
import io.github.idempotency.interceptor.Decision;
import io.github.idempotency.interceptor.IdempotencyLifecycle;
import io.github.idempotency.interceptor.IdempotencyPolicy;
import io.github.idempotency.interceptor.IdempotencyPolicy.OnStoreFailure;
import io.github.idempotency.interceptor.IdempotentOperation;
import io.github.idempotency.test.PostgresTestServer;
import org.junit.jupiter.api.Test;

import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.datasource.DelegatingDataSource;
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
	protected String urlWaitingBriefly() {
		return url() + "&options=-c%20lock_timeout=1000";
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

	// The claim's own transaction (a pool that turns auto-commit off), at repeatable
	// read, whose snapshot each time misses a write of the expired row that came just
	// before: a serialization failure on every attempt. The store answers, and the row
	// read afterwards says another call now holds the key.
	@Test
	void claimMeetingAnotherWriteOfItsRowOnEveryAttemptShouldFindTheKeyInProgress() throws Exception {
		String key = UUID.randomUUID().toString().replace("-", "");
		assertThat(this.store.claim(key, "fp", Duration.ofMillis(1))).isInstanceOf(ClaimResult.Claimed.class);
		Thread.sleep(20);
		AtomicInteger attempts = new AtomicInteger();
		DataSource racing = new DelegatingDataSource(this.dataSource) {

			@Override
			public Connection getConnection() throws SQLException {
				Connection connection = super.getConnection();
				connection.setAutoCommit(false);
				connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
				try (Statement statement = connection.createStatement()) {
					statement.executeQuery("SELECT 1").close();
				}
				int attempt = attempts.incrementAndGet();
				// Others write the row, still expired, before the first two attempts, and
				// claim it before the third.
				if (attempt < 3) {
					PostgresStoreTests.this.jdbc
						.update("UPDATE store_record SET fingerprint = fingerprint WHERE record_key = ?", key);
				}
				else if (attempt == 3) {
					PostgresStoreTests.this.jdbc.update(
							"UPDATE store_record SET owner_token = 'other',"
									+ " expires_at = clock_timestamp() + INTERVAL '30 seconds' WHERE record_key = ?",
							key);
				}
				return connection;
			}

		};
		JdbcIdempotencyStore store = new JdbcIdempotencyStore(racing, "store_record", JdbcDialect.POSTGRESQL);
		assertThat(store.claim(key, "fp", Duration.ofSeconds(30))).isInstanceOf(ClaimResult.InProgress.class);
		// Three claims, then the read.
		assertThat(attempts).hasValue(4);
	}

	// The completion of a call that ran gives up waiting for its row (lock_timeout), once
	// or twice: it is asked again, and the outcome kept.
	@Test
	void completionThatGaveUpWaitingForItsRowShouldBeTriedAgain() throws Exception {
		JdbcIdempotencyStore impatient = JdbcStores
			.store(JdbcStores.dataSource(url() + "&options=-c%20lock_timeout=200"), "store_record", false);
		List<String> outcomes = new CopyOnWriteArrayList<>();
		IdempotencyLifecycle lifecycle = new IdempotencyLifecycle(impatient,
				new IdempotencyPolicy(Duration.ofMinutes(5), Duration.ofSeconds(30), false, null, Duration.ofMinutes(1),
						Duration.ZERO, 255, OnStoreFailure.REJECT),
				(operation, outcome) -> outcomes.add(outcome.tagValue()));
		IdempotentOperation operation = new IdempotentOperation("Ledger.book", null, "#p0", true, null, null, null,
				true, false, null, null, List.of(), null, null);
		String key = UUID.randomUUID().toString().replace("-", "");
		ExecutorService executor = Executors.newSingleThreadExecutor();
		try (Connection holder = this.dataSource.getConnection()) {
			Claim claim = ((Decision.Proceed) lifecycle.begin(operation, "Ledger#book", key, "fp")).claim();
			holder.setAutoCommit(false);
			try (Statement statement = holder.createStatement()) {
				statement.executeQuery("SELECT * FROM store_record WHERE record_key = '" + key + "' FOR UPDATE")
					.close();
			}
			Future<Boolean> completion = executor
				.submit(() -> claim.complete(new StoredResponse(201, Map.of(), "{}".getBytes())));
			awaitWaitingForALock();
			awaitNoneWaitingForALock();
			holder.commit();
			assertThat(completion.get(10, TimeUnit.SECONDS)).isTrue();
		}
		finally {
			executor.shutdownNow();
			lifecycle.close();
		}
		assertThat(outcomes).containsExactly("executed");
		assertThat(this.store.find(key))
			.hasValueSatisfying((record) -> assertThat(record.state()).isEqualTo(IdempotencyRecord.State.COMPLETED));
	}

	private void awaitNoneWaitingForALock() throws InterruptedException {
		for (int i = 0; i < 500; i++) {
			if (waitingForALock() == 0) {
				return;
			}
			Thread.sleep(2);
		}
		throw new AssertionError("The completion never gave up waiting for the row");
	}

	private int waitingForALock() {
		Integer waiting = this.jdbc.queryForObject("SELECT COUNT(*) FROM pg_stat_activity"
				+ " WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE store_record%'", Integer.class);
		return (waiting != null) ? waiting : 0;
	}

	private void awaitWaitingForALock() throws InterruptedException {
		for (int i = 0; i < 500; i++) {
			if (waitingForALock() > 0) {
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
