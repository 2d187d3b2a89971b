package io.github.idempotency.store.jdbc;

import java.sql.DriverManager;
import java.sql.SQLException;

import javax.sql.DataSource;

import io.github.idempotency.test.MariaDbTestServer;
import io.github.idempotency.test.PostgresTestServer;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.SimpleDriverDataSource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The databases the JDBC store's tests run on, each with a fresh table of records.
 */
final class JdbcStores {

	private JdbcStores() {
	}

	static DataSource postgres() {
		return dataSource(PostgresTestServer.url());
	}

	static DataSource mariaDb() {
		return dataSource(MariaDbTestServer.url());
	}

	// A connection per statement: no pool, so no test depends on one.
	static DataSource dataSource(String url) {
		try {
			return new SimpleDriverDataSource(DriverManager.getDriver(url), url);
		}
		catch (SQLException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * A store on a table of its own, created afresh.
	 */
	static JdbcIdempotencyStore store(DataSource dataSource, String table) {
		return store(dataSource, table, true);
	}

	/**
	 * A store on a table, created afresh if asked.
	 */
	static JdbcIdempotencyStore store(DataSource dataSource, String table, boolean fresh) {
		JdbcIdempotencyStore store = new JdbcIdempotencyStore(dataSource, table,
				JdbcIdempotencyStore.dialect(dataSource));
		if (fresh) {
			new JdbcTemplate(dataSource).execute("DROP TABLE IF EXISTS " + table);
			store.createTable();
		}
		return store;
	}

	/**
	 * Runs work in a transaction on the DataSource, then commits or rolls it back.
	 */
	static void inTransaction(DataSource dataSource, boolean commit, Runnable work) {
		new TransactionTemplate(new DataSourceTransactionManager(dataSource)).executeWithoutResult((status) -> {
			work.run();
			if (!commit) {
				status.setRollbackOnly();
			}
		});
	}

	/**
	 * A database nothing answers for: a closed port on loopback.
	 */
	static DataSource unreachable() {
		return dataSource("jdbc:postgresql://127.0.0.1:1/test?user=postgres&connectTimeout=1");
	}

}
