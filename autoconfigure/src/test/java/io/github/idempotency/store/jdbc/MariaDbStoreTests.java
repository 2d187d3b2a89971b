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

	@Override
	protected void createSchema(String name) {
		this.jdbc.execute("CREATE DATABASE IF NOT EXISTS " + name);
	}

}
