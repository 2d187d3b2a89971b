package io.github.idempotency.store.jdbc;

import io.github.idempotency.test.PostgresTestServer;

/**
 * The JDBC store on PostgreSQL.
 */
class PostgresStoreTests extends AbstractJdbcStoreTests {

	@Override
	protected String url() {
		return PostgresTestServer.url();
	}

}
