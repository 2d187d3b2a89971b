package io.github.idempotency.store.jdbc;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.contract.AbstractIdempotencyStoreTests;
import org.junit.jupiter.api.BeforeAll;

/**
 * The store contract, met by the JDBC store on PostgreSQL.
 */
class PostgresStoreContractTests extends AbstractIdempotencyStoreTests {

	private static JdbcIdempotencyStore store;

	@BeforeAll
	static void createTable() {
		store = JdbcStores.store(JdbcStores.postgres(), "contract_record");
	}

	@Override
	protected IdempotencyStore store() {
		return store;
	}

}
