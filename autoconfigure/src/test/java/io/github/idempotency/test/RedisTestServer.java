package io.github.idempotency.test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import redis.embedded.RedisServer;

/**
 * The Redis server tests talk to, one per JVM, chosen in this order: the server named by
 * the environment variable {@code IDEMPOTENCY_TEST_REDIS_URL}; a Testcontainers Redis
 * where a Docker engine answers; an embedded Redis server process (Redis 6.2, shipped
 * inside the embedded-redis test dependency). So the tests run on a machine with a Redis,
 * with Docker, or with neither.
 */
public final class RedisTestServer {

	/**
	 * The environment variable naming an existing server, such as
	 * {@code redis://127.0.0.1:6379}.
	 */
	public static final String URL_VARIABLE = "IDEMPOTENCY_TEST_REDIS_URL";

	private static volatile URI uri;

	private RedisTestServer() {
	}

	/**
	 * The server's URL, starting a server the first time if none is configured.
	 * @return a {@code redis://host:port} URL
	 */
	public static String url() {
		return uri().toString();
	}

	public static String host() {
		return uri().getHost();
	}

	public static int port() {
		return uri().getPort();
	}

	private static URI uri() {
		URI current = uri;
		if (current == null) {
			synchronized (RedisTestServer.class) {
				current = uri;
				if (current == null) {
					current = start();
					uri = current;
				}
			}
		}
		return current;
	}

	private static URI start() {
		String configured = System.getenv(URL_VARIABLE);
		if (configured != null && !configured.isBlank()) {
			return announce(URI.create(configured.trim()), "from " + URL_VARIABLE);
		}
		if (dockerAvailable()) {
			GenericContainer<?> container = new GenericContainer<>("redis:7-alpine").withExposedPorts(6379);
			container.start();
			return announce(URI.create("redis://" + container.getHost() + ":" + container.getMappedPort(6379)),
					"in a Testcontainers container");
		}
		return announce(startEmbedded(), "embedded (Redis 6.2 from the embedded-redis test dependency)");
	}

	private static URI announce(URI uri, String how) {
		System.out.println("Tests use the Redis at " + uri + ", " + how);
		return uri;
	}

	private static boolean dockerAvailable() {
		try {
			return DockerClientFactory.instance().isDockerAvailable();
		}
		catch (RuntimeException ex) {
			return false;
		}
	}

	private static URI startEmbedded() {
		try {
			RedisServer server = startEmbedded(freePort());
			Runtime.getRuntime().addShutdownHook(new Thread(() -> {
				try {
					server.stop();
				}
				catch (IOException ex) {
					// The JVM is going away; the process dies with it.
				}
			}));
			return URI.create("redis://127.0.0.1:" + server.ports().get(0));
		}
		catch (IOException ex) {
			throw new IllegalStateException("Could not start an embedded Redis server", ex);
		}
	}

	/**
	 * Starts a Redis 6.2 server from the embedded-redis test dependency, for tests of
	 * what a server before 7.0 does; the caller stops it.
	 * @param port the loopback port to listen on
	 * @return the running server
	 */
	public static RedisServer startEmbedded(int port) throws IOException {
		RedisServer server = RedisServer.newRedisServer()
			.port(port)
			.bind("127.0.0.1")
			.setting("save \"\"")
			.setting("appendonly no")
			.build();
		server.start();
		return server;
	}

	/**
	 * A TCP port on the loopback interface that nothing listens on right now, for servers
	 * a test starts itself.
	 * @return the port
	 */
	public static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

}
