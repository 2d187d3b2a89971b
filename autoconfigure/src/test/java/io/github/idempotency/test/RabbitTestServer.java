package io.github.idempotency.test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;

import org.junit.jupiter.api.Assumptions;

/**
 * The RabbitMQ broker tests talk to: the one at the address the environment variable
 * {@code IDEMPOTENCY_TEST_RABBITMQ_ADDRESS} names, which CI sets and which must then
 * answer; without it, the machine's own on 127.0.0.1:5672, and the RabbitMQ tests are
 * skipped on a machine that runs none. Both are used as {@code guest}.
 */
public final class RabbitTestServer {

	/**
	 * The environment variable naming a broker that must be used, such as
	 * {@code 127.0.0.1:5672}.
	 */
	public static final String ADDRESS_VARIABLE = "IDEMPOTENCY_TEST_RABBITMQ_ADDRESS";

	private static final String LOCAL = "127.0.0.1:5672";

	private RabbitTestServer() {
	}

	/**
	 * The broker's address; aborts the calling test when none was named and none runs
	 * locally.
	 * @return {@code host:port}
	 */
	public static String address() {
		String configured = System.getenv(ADDRESS_VARIABLE);
		if (configured != null && !configured.isBlank()) {
			return configured.trim();
		}
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress("127.0.0.1", 5672), 1000);
			return LOCAL;
		}
		catch (IOException ex) {
			Assumptions.abort("No " + ADDRESS_VARIABLE + " set and no RabbitMQ on " + LOCAL + ": " + ex.getMessage());
			throw new IllegalStateException(ex);
		}
	}

}
