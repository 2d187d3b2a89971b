package io.github.idempotency.sample;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.test.RedisTestServer;

/**
 * Another instance of the sample in its own JVM, on its own port, sharing the test Redis:
 * what a second node of a fleet is to the instance under test.
 */
final class SampleInstance implements AutoCloseable {

	private final int port;

	private final Process process;

	private final Path log;

	private SampleInstance(int port, Process process, Path log) {
		this.port = port;
		this.process = process;
		this.log = log;
	}

	/**
	 * Starts an instance and waits until it answers.
	 * @param launch how to start the JVM: the java command's arguments up to the main
	 * class or jar
	 * @param arguments the application's arguments, after the port and Redis it is given
	 * @return the instance, up
	 */
	static SampleInstance start(List<String> launch, String... arguments) throws Exception {
		int port = RedisTestServer.freePort();
		Path log = Files.createTempFile("sample-instance", ".log");
		List<String> command = new ArrayList<>();
		command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
		command.addAll(launch);
		command.add("--server.port=" + port);
		command.add("--spring.data.redis.url=" + RedisTestServer.url());
		command.add("--sample.embedded-redis.enabled=false");
		command.addAll(List.of(arguments));
		Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
		SampleInstance instance = new SampleInstance(port, process, log);
		try {
			instance.awaitUp();
		}
		catch (Exception | AssertionError ex) {
			instance.close();
			throw ex;
		}
		return instance;
	}

	int port() {
		return this.port;
	}

	/**
	 * Kills the JVM as a crash would, without shutdown hooks.
	 */
	void kill() throws InterruptedException {
		this.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
	}

	/**
	 * Stops the JVM as a deployment does, with SIGTERM, which Spring Boot answers with a
	 * graceful shutdown; {@link #exited(Duration)} waits for it.
	 */
	void terminate() {
		this.process.destroy();
	}

	/**
	 * Waits up to the time given for the JVM to exit.
	 * @return whether it exited
	 */
	boolean exited(Duration patience) throws InterruptedException {
		return this.process.waitFor(patience.toMillis(), TimeUnit.MILLISECONDS);
	}

	/**
	 * What the instance has logged so far.
	 */
	String log() throws IOException {
		return Files.readString(this.log);
	}

	@Override
	public void close() throws InterruptedException {
		kill();
	}

	private void awaitUp() throws Exception {
		HttpClient client = HttpClient.newHttpClient();
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/payments")).build();
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
		while (System.nanoTime() < deadline) {
			if (!this.process.isAlive()) {
				throw new AssertionError("The sample instance exited: " + Files.readString(this.log));
			}
			try {
				if (client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
					return;
				}
			}
			catch (IOException ex) {
				// Not listening yet.
			}
			Thread.sleep(200);
		}
		throw new AssertionError("The sample instance did not start: " + Files.readString(this.log));
	}

}
