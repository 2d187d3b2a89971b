package io.github.idempotency.test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real Redis Cluster on loopback: six {@code redis-server} processes (three primaries,
 * three replicas) joined with {@code redis-cli --cluster create}. One per JVM, started on
 * first use and stopped when the JVM exits.
 */
public final class RedisClusterProcesses {

	private static final int NODES = 6;

	private static volatile List<RedisProcess> nodes;

	private RedisClusterProcesses() {
	}

	/**
	 * Whether a cluster can be started here: {@code redis-server} and {@code redis-cli}
	 * are installed.
	 * @return {@code true} if both are on the PATH
	 */
	public static boolean isAvailable() {
		return RedisProcess.isAvailable() && run(List.of("redis-cli", "--version"), 10).exitCode == 0;
	}

	/**
	 * The nodes as {@code host:port}, comma-separated, as
	 * {@code spring.data.redis.cluster.nodes} takes them.
	 * @return the node list
	 */
	public static String nodes() {
		return started().stream().map((node) -> "127.0.0.1:" + node.port()).collect(Collectors.joining(","));
	}

	/**
	 * The port of one node.
	 * @param node the node's index, from 0
	 * @return its port
	 */
	public static int port(int node) {
		return started().get(node).port();
	}

	/**
	 * Sets a configuration parameter on one node, as {@code CONFIG SET} does.
	 * @param node the node's index, from 0
	 * @param name the parameter
	 * @param value its value
	 */
	public static void configSet(int node, String name, String value) {
		Result result = run(List.of("redis-cli", "-p", String.valueOf(port(node)), "config", "set", name, value), 10);
		if (result.exitCode != 0 || !result.output.trim().equals("OK")) {
			throw new IllegalStateException("CONFIG SET " + name + " failed on node " + node + ": " + result.output);
		}
	}

	/**
	 * The number of nodes.
	 * @return how many nodes the cluster has
	 */
	public static int size() {
		return NODES;
	}

	private static List<RedisProcess> started() {
		List<RedisProcess> current = nodes;
		if (current == null) {
			synchronized (RedisClusterProcesses.class) {
				current = nodes;
				if (current == null) {
					current = start();
					nodes = current;
				}
			}
		}
		return current;
	}

	private static List<RedisProcess> start() {
		List<RedisProcess> started = new ArrayList<>();
		Runtime.getRuntime().addShutdownHook(new Thread(() -> started.forEach(RedisProcess::close)));
		try {
			for (int i = 0; i < NODES; i++) {
				started.add(RedisProcess.launch("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
						"--cluster-node-timeout", "2000"));
			}
		}
		catch (IOException ex) {
			throw new IllegalStateException("Could not start the cluster's nodes", ex);
		}
		List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
		started.forEach((node) -> create.add("127.0.0.1:" + node.port()));
		create.addAll(List.of("--cluster-replicas", "1", "--cluster-yes"));
		Result created = run(create, 60);
		if (created.exitCode != 0) {
			throw new IllegalStateException("redis-cli --cluster create failed:\n" + created.output);
		}
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
		for (RedisProcess node : started) {
			while (!run(List.of("redis-cli", "-p", String.valueOf(node.port()), "cluster", "info"), 10).output
				.contains("cluster_state:ok")) {
				if (System.nanoTime() > deadline) {
					throw new IllegalStateException("The cluster did not become ready");
				}
				sleep(100);
			}
		}
		System.out.println("Tests use a Redis Cluster at " + started.stream()
			.map((node) -> String.valueOf(node.port()))
			.collect(Collectors.joining(",", "127.0.0.1:", "")));
		return started;
	}

	private static Result run(List<String> command, int timeoutSeconds) {
		try {
			Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
			String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
				process.destroyForcibly();
				return new Result(-1, output);
			}
			return new Result(process.exitValue(), output);
		}
		catch (IOException ex) {
			return new Result(-1, ex.getMessage());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return new Result(-1, "interrupted");
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private record Result(int exitCode, String output) {
	}

}
