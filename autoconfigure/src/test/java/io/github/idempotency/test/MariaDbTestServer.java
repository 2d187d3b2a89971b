package io.github.idempotency.test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

import org.junit.jupiter.api.Assumptions;

/**
 * The MariaDB tests talk to: the server named by the environment variable
 * {@code IDEMPOTENCY_TEST_MARIADB_URL}, which CI sets and which must then answer; without
 * it, the machine's own on 127.0.0.1:3306 as {@code root} without a password, and the
 * MariaDB tests are skipped on a machine that runs none (there is no embedded MariaDB as
 * there is an embedded PostgreSQL).
 */
public final class MariaDbTestServer {

	/**
	 * The environment variable naming a server that must be used, such as
	 * {@code jdbc:mariadb://127.0.0.1:3306/test?user=root}.
	 */
	public static final String URL_VARIABLE = "IDEMPOTENCY_TEST_MARIADB_URL";

	private static final String LOCAL = "jdbc:mariadb://127.0.0.1:3306/test?user=root";

	private MariaDbTestServer() {
	}

	/**
	 * The server's JDBC URL, with its user; aborts the calling test when no server was
	 * named and none runs locally.
	 * @return the URL
	 */
	public static String url() {
		String configured = System.getenv(URL_VARIABLE);
		if (configured != null && !configured.isBlank()) {
			return configured;
		}
		try (Connection connection = DriverManager.getConnection(LOCAL)) {
			return LOCAL;
		}
		catch (SQLException ex) {
			Assumptions.abort("No " + URL_VARIABLE + " set and no MariaDB on 127.0.0.1:3306: " + ex.getMessage());
			throw new IllegalStateException(ex);
		}
	}

}
