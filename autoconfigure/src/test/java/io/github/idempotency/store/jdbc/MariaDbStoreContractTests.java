package io.github.idempotency.store.jdbc;

import javax.sql.DataSource;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.contract.AbstractIdempotencyStoreTests;
import org.junit.jupiter.api.BeforeAll;

/**
 * The store contract, met by the JDBC store on MariaDB.
 */
class MariaDbStoreContractTests extends AbstractIdempotencyStoreTests {

	private static DataSource dataSource;

	private static JdbcIdempotencyStore store;

	@BeforeAll
	static void createTable() {
		dataSource = JdbcStores.mariaDb();
		store = JdbcStores.store(dataSource, "contract_record");
	}

	@Override
	protected IdempotencyStore store() {
		return store;
	}

	@Override
	protected void inTransaction(boolean commit, Runnable work) {
		JdbcStores.inTransaction(dataSource, commit, work);
	}

}
