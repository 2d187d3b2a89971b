package io.github.idempotency.test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A real Redis Sentinel setup on loopback: one primary, one replica and three Sentinels
 * (quorum two), each a {@code redis-server} process of its own.
 */
public final class RedisSentinelProcesses implements AutoCloseable {

	/**
	 * The name the Sentinels know the primary by.
	 */
	public static final String MASTER_NAME = "idempotency";

	private static volatile RedisSentinelProcesses shared;

	private final RedisProcess master;

	private final RedisProcess replica;

	private final List<RedisProcess> sentinels;

	private RedisSentinelProcesses(RedisProcess master, RedisProcess replica, List<RedisProcess> sentinels) {
		this.master = master;
		this.replica = replica;
		this.sentinels = sentinels;
	}

	/**
	 * Starts a setup of its own, for a test that kills its primary.
	 * @return the running setup; close it when done
	 */
	public static RedisSentinelProcesses start() throws IOException {
		RedisProcess master = RedisProcess.launch();
		RedisProcess replica = RedisProcess.launch("--replicaof", "127.0.0.1", String.valueOf(master.port()));
		List<RedisProcess> sentinels = new ArrayList<>();
		for (int i = 0; i < 3; i++) {
			sentinels.add(RedisProcess.launchSentinel(MASTER_NAME, master.port(), 2));
		}
		return new RedisSentinelProcesses(master, replica, sentinels);
	}

	/**
	 * A setup shared by the tests of one JVM that leave it intact, stopped when the JVM
	 * exits.
	 * @return the shared setup
	 */
	public static RedisSentinelProcesses shared() {
		RedisSentinelProcesses current = shared;
		if (current == null) {
			synchronized (RedisSentinelProcesses.class) {
				current = shared;
				if (current == null) {
					try {
						current = start();
					}
					catch (IOException ex) {
						throw new IllegalStateException("Could not start the Sentinel setup", ex);
					}
					RedisSentinelProcesses started = current;
					Runtime.getRuntime().addShutdownHook(new Thread(started::close));
					shared = current;
				}
			}
		}
		return current;
	}

	/**
	 * The Sentinels as {@code host:port}, comma-separated, as
	 * {@code spring.data.redis.sentinel.nodes} takes them.
	 * @return the Sentinel list
	 */
	public String sentinelNodes() {
		return this.sentinels.stream()
			.map((sentinel) -> "127.0.0.1:" + sentinel.port())
			.collect(Collectors.joining(","));
	}

	public RedisProcess master() {
		return this.master;
	}

	public RedisProcess replica() {
		return this.replica;
	}

	@Override
	public void close() {
		this.sentinels.forEach(RedisProcess::close);
		this.replica.close();
		this.master.close();
	}

}
