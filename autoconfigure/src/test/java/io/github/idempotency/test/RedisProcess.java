package io.github.idempotency.test;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.jspecify.annotations.Nullable;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A {@code redis-server} process of the test's own, on a free loopback port, for tests
 * that kill, pause or cluster Redis. Needs {@code redis-server} on the PATH
 * ({@link #isAvailable()}); {@code .ci/run} installs it where missing.
 */
public final class RedisProcess implements AutoCloseable {

	/**
	 * The environment variable that names a {@code valkey-server} executable.
	 */
	public static final String VALKEY_VARIABLE = "IDEMPOTENCY_TEST_VALKEY_SERVER";

	private final List<String> command;

	private final int port;

	private final Path directory;

	private Process process;

	private RedisProcess(int port, Path directory, List<String> command) {
		this.port = port;
		this.directory = directory;
		this.command = command;
	}

	/**
	 * Whether {@code redis-server} can be started here.
	 * @return {@code true} if it is on the PATH
	 */
	public static boolean isAvailable() {
		try {
			Process version = new ProcessBuilder("redis-server", "--version").redirectErrorStream(true).start();
			version.getInputStream().readAllBytes();
			return version.waitFor(10, TimeUnit.SECONDS) && version.exitValue() == 0;
		}
		catch (IOException ex) {
			return false;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

	/**
	 * Starts a server on a free port for a test, which is skipped where
	 * {@code redis-server} is not installed.
	 * @return the running server
	 */
	public static RedisProcess launchOrSkip() {
		assumeTrue(isAvailable(), "redis-server is not installed");
		try {
			return launch();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/**
	 * Starts a server on a free port.
	 * @param arguments further {@code redis-server} arguments, such as
	 * {@code --cluster-enabled yes}
	 * @return the running server
	 */
	public static RedisProcess launch(String... arguments) throws IOException {
		return launchServer("redis-server", arguments);
	}

	/**
	 * The {@code valkey-server} named by {@value #VALKEY_VARIABLE}, which {@code .ci/run}
	 * builds from Debian's sources: a server with {@code SET ... IFEQ}, which no Redis
	 * this machine has offers. Once the variable is set the tests that need it must reach
	 * it; without it they are skipped.
	 * @return the executable, or {@code null} where the variable is not set
	 */
	public static @Nullable String valkeyServer() {
		String server = System.getenv(VALKEY_VARIABLE);
		return (server != null && !server.isBlank()) ? server : null;
	}

	/**
	 * Starts the {@link #valkeyServer()} on a free port.
	 * @return the running server
	 */
	public static RedisProcess launchValkey() throws IOException {
		String server = valkeyServer();
		if (server == null) {
			throw new IllegalStateException(VALKEY_VARIABLE + " names no valkey-server");
		}
		return launchServer(server);
	}

	private static RedisProcess launchServer(String server, String... arguments) throws IOException {
		int port = RedisTestServer.freePort();
		Path directory = Files.createTempDirectory("redis-" + port);
		List<String> command = new ArrayList<>(List.of(server, "--port", String.valueOf(port), "--bind", "127.0.0.1",
				"--save", "", "--appendonly", "no", "--dir", directory.toString()));
		command.addAll(List.of(arguments));
		RedisProcess redis = new RedisProcess(port, directory, command);
		redis.start();
		return redis;
	}

	/**
	 * Starts a Sentinel on a free port, watching a primary under a name.
	 * @param masterName the name clients ask the Sentinel for
	 * @param masterPort the primary's port on 127.0.0.1
	 * @param quorum how many Sentinels must agree that the primary is down
	 * @return the running Sentinel
	 */
	public static RedisProcess launchSentinel(String masterName, int masterPort, int quorum) throws IOException {
		int port = RedisTestServer.freePort();
		Path directory = Files.createTempDirectory("sentinel-" + port);
		Path config = directory.resolve("sentinel.conf");
		Files.writeString(config,
				String.join("\n", "port " + port, "bind 127.0.0.1", "dir " + directory,
						"sentinel monitor " + masterName + " 127.0.0.1 " + masterPort + " " + quorum,
						"sentinel down-after-milliseconds " + masterName + " 1000",
						"sentinel failover-timeout " + masterName + " 5000",
						"sentinel parallel-syncs " + masterName + " 1", ""));
		RedisProcess sentinel = new RedisProcess(port, directory,
				List.of("redis-server", config.toString(), "--sentinel"));
		sentinel.start();
		return sentinel;
	}

	/**
	 * Starts the server again, on the same port, after {@link #kill()}.
	 */
	public void start() throws IOException {
		this.process = new ProcessBuilder(this.command).redirectErrorStream(true)
			.redirectOutput(this.directory.resolve("redis.log").toFile())
			.start();
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		while (!answers()) {
			if (System.nanoTime() > deadline || !this.process.isAlive()) {
				throw new IOException(this.command.get(0) + " on port " + this.port + " did not start: "
						+ Files.readString(this.directory.resolve("redis.log")));
			}
			sleep(Duration.ofMillis(20));
		}
	}

	/**
	 * Kills the server at once, as a crash would.
	 */
	public void kill() {
		if (this.process != null) {
			this.process.destroyForcibly();
			try {
				this.process.waitFor(10, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	public int port() {
		return this.port;
	}

	public String url() {
		return "redis://127.0.0.1:" + this.port;
	}

	/**
	 * Makes the server hold every client's commands for a while, as a server stuck in a
	 * slow command would.
	 * @param duration how long
	 */
	public void pauseClients(Duration duration) {
		sync((redis) -> redis.clientPause(duration.toMillis()));
	}

	/**
	 * Changes a setting of the running server.
	 * @param name the setting
	 * @param value its new value
	 */
	public void configSet(String name, String value) {
		sync((redis) -> redis.configSet(name, value));
	}

	/**
	 * The server's major version, such as 7.
	 * @return the major version
	 */
	public int version() {
		String[] version = new String[1];
		sync((redis) -> version[0] = redis.info("server")
			.lines()
			.filter((line) -> line.startsWith("redis_version:"))
			.findFirst()
			.orElseThrow()
			.substring("redis_version:".length()));
		return Integer.parseInt(version[0].split("\\.")[0]);
	}

	private void sync(Consumer<RedisCommands<String, String>> commands) {
		RedisClient client = RedisClient.create(RedisURI.create("127.0.0.1", this.port));
		try (StatefulRedisConnection<String, String> connection = client.connect()) {
			commands.accept(connection.sync());
		}
		finally {
			client.shutdown();
		}
	}

	private boolean answers() {
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
			byte[] reply = new byte[5];
			return socket.getInputStream().read(reply) == 5
					&& new String(reply, StandardCharsets.US_ASCII).equals("+PONG");
		}
		catch (IOException ex) {
			return false;
		}
	}

	private static void sleep(Duration duration) {
		try {
			Thread.sleep(duration.toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	@Override
	public void close() {
		kill();
		File[] files = this.directory.toFile().listFiles();
		if (files != null) {
			for (File file : files) {
				file.delete();
			}
		}
		this.directory.toFile().delete();
	}

}
