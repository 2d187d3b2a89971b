package io.github.idempotency.store.jdbc;

import io.github.idempotency.test.MariaDbTestServer;

/**
 * The JDBC store on MariaDB.
 */
class MariaDbStoreTests extends AbstractJdbcStoreTests {

	@Override
	protected String url() {
		return MariaDbTestServer.url();
	}

}
