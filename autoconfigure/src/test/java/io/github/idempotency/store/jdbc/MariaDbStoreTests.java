package io.github.idempotency.store.jdbc;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.sql.DataSource;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.test.MariaDbTestServer;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.system.CapturedOutput;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JDBC store on MariaDB.
 */
class MariaDbStoreTests extends AbstractJdbcStoreTests {

	// MariaDB 11.6.2 and later check a transaction's snapshot when it locks a row
	// (innodb_snapshot_isolation, on by default there); 10.11 has the setting, off.
	private static final String CHECKING_SNAPSHOTS = "&sessionVariables=innodb_snapshot_isolation=ON";

	@Override
	protected String url() {
		return MariaDbTestServer.url();
	}

	@Override
	protected String urlWaitingBriefly() {
		return url() + "&sessionVariables=innodb_lock_wait_timeout=1";
	}

	@Override
	protected void createSchema(String name) {
		this.jdbc.execute("CREATE DATABASE IF NOT EXISTS " + name);
	}

	// At repeatable read, the transaction's first read fixes its snapshot: the claim,
	// committed after it, could not be updated in it.
	@Test
	void transactionThatReadBeforeTheClaimShouldNotBeJoinedWhereSnapshotsAreChecked(CapturedOutput output) {
		DataSource checking = JdbcStores.dataSource(url() + CHECKING_SNAPSHOTS);
		JdbcIdempotencyStore store = JdbcStores.store(checking, "store_record", false);
		TransactionTemplate repeatableRead = new TransactionTemplate(new DataSourceTransactionManager(checking));
		repeatableRead.setIsolationLevel(TransactionDefinition.ISOLATION_REPEATABLE_READ);
		repeatableRead.executeWithoutResult((status) -> {
			new JdbcTemplate(checking).queryForObject("SELECT COUNT(*) FROM store_charge", Integer.class);
			store.claim(UUID.randomUUID().toString(), "fp", Duration.ofSeconds(30));
			assertThat(store.canCompleteInCurrentTransaction()).isFalse();
			assertThat(store.canCompleteInCurrentTransaction()).isFalse();
		});
		assertThat(output).containsOnlyOnce("outcomes of calls in such transactions are stored after the commit");
		TransactionTemplate readCommitted = new TransactionTemplate(new DataSourceTransactionManager(checking));
		readCommitted.setIsolationLevel(TransactionDefinition.ISOLATION_READ_COMMITTED);
		readCommitted.executeWithoutResult((status) -> assertThat(store.canCompleteInCurrentTransaction()).isTrue());
		DataSource notChecking = JdbcStores.dataSource(url() + "&sessionVariables=innodb_snapshot_isolation=OFF");
		JdbcIdempotencyStore joining = JdbcStores.store(notChecking, "store_record", false);
		TransactionTemplate repeatableReadUnchecked = new TransactionTemplate(
				new DataSourceTransactionManager(notChecking));
		repeatableReadUnchecked.setIsolationLevel(TransactionDefinition.ISOLATION_REPEATABLE_READ);
		repeatableReadUnchecked
			.executeWithoutResult((status) -> assertThat(joining.canCompleteInCurrentTransaction()).isTrue());
	}

	// The driver sends a zero byte of a body as two in the statement's text: a body of
	// zeros is the largest statement of its size.
	@Test
	void bodyOfTheLargestSizeShouldBeStoredWhateverItsBytes() {
		long packet = this.jdbc.queryForObject("SELECT @@max_allowed_packet", Long.class);
		assertThat(this.store.largestBody()).isEqualTo((packet - 64 * 1024) / 2);
		String key = UUID.randomUUID().toString();
		ClaimResult.Claimed claimed = (ClaimResult.Claimed) this.store.claim(key, "fp", Duration.ofSeconds(30));
		byte[] zeros = new byte[(int) this.store.largestBody()];
		Map<String, List<String>> headers = Map.of("Content-Type", List.of("application/octet-stream"));
		assertThat(this.store.complete(key, claimed.token(), new StoredResponse(200, headers, zeros),
				Duration.ofMinutes(1)))
			.isTrue();
		assertThat(this.store.find(key).orElseThrow().response().body()).hasSize(zeros.length);
	}

	// A pool that turns auto-commit off runs the claim's statements in one transaction:
	// another node's claim, committed between its read and its write, must make it
	// report the claim in progress, not fail.
	@Test
	void claimRacingAnotherInATransactionThatChecksSnapshotsShouldFindItInProgress() {
		String key = UUID.randomUUID().toString().replace("-", "");
		JdbcIdempotencyStore other = JdbcStores.store(this.dataSource, "store_record", false);
		AtomicBoolean armed = new AtomicBoolean();
		DataSource racing = claimingBetween(JdbcStores.dataSource(url() + CHECKING_SNAPSHOTS), armed,
				() -> assertThat(other.claim(key, "fp", Duration.ofSeconds(30)))
					.isInstanceOf(ClaimResult.Claimed.class));
		JdbcIdempotencyStore store = JdbcStores.store(racing, "store_record", false);
		armed.set(true);

		assertThat(store.claim(key, "fp", Duration.ofSeconds(30))).isInstanceOf(ClaimResult.InProgress.class);
		assertThat(armed).isFalse();
	}

	// Connections with auto-commit off, on which the other claim commits right after
	// the first query once armed.
	private static DataSource claimingBetween(DataSource dataSource, AtomicBoolean armed, Runnable otherClaim) {
		return proxy(DataSource.class, (method, arguments) -> {
			Object result = method.invoke(dataSource, arguments);
			if (!(result instanceof Connection connection)) {
				return result;
			}
			connection.setAutoCommit(false);
			return proxy(Connection.class, (connectionMethod, connectionArguments) -> {
				Object made = connectionMethod.invoke(connection, connectionArguments);
				if (!(made instanceof PreparedStatement statement)) {
					return made;
				}
				return proxy(PreparedStatement.class, (statementMethod, statementArguments) -> {
					Object done = statementMethod.invoke(statement, statementArguments);
					if (statementMethod.getName().equals("executeQuery") && armed.compareAndSet(true, false)) {
						otherClaim.run();
					}
					return done;
				});
			});
		});
	}

	private static <T> T proxy(Class<T> type, Call call) {
		return type.cast(Proxy.newProxyInstance(MariaDbStoreTests.class.getClassLoader(), new Class<?>[] { type },
				(proxy, method, arguments) -> {
					try {
						return call.on(method, arguments);
					}
					catch (InvocationTargetException ex) {
						throw ex.getCause();
					}
				}));
	}

	private interface Call {

		Object on(java.lang.reflect.Method method, Object[] arguments) throws Throwable;

	}

}
