package io.github.idempotency.store.redis;

import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;

/**
 * Checks at startup that Redis will not evict idempotency records. Records always carry
 * an expiry, so any {@code maxmemory-policy} other than {@code noeviction} (the
 * {@code allkeys-*} and the {@code volatile-*} ones alike) can drop a record under memory
 * pressure, and a retry then runs again.
 *
 * <p>
 * A Redis that refuses {@code CONFIG GET} (managed services that evict by default among
 * them) may evict as far as the check can tell, and is reported as one that may; one that
 * does not answer at startup is left to the startup report. A check that only warns runs
 * on a thread of its own, so that startup never waits for Redis; one that fails startup
 * runs before startup completes.
 *
 * @since 0.1.0
 */
public class RedisEvictionPolicyCheck implements SmartInitializingSingleton {

	private static final Log logger = LogFactory.getLog(RedisEvictionPolicyCheck.class);

	private static final String LIMIT = "maxmemory";

	private static final String POLICY = "maxmemory-policy";

	private final RedisConnectionFactory connectionFactory;

	private final Action action;

	/**
	 * @param connectionFactory the connection to the Redis holding the records
	 * @param action what an evicting policy leads to
	 */
	public RedisEvictionPolicyCheck(RedisConnectionFactory connectionFactory, Action action) {
		this.connectionFactory = connectionFactory;
		this.action = action;
	}

	@Override
	public void afterSingletonsInstantiated() {
		if (this.action == Action.OFF) {
			return;
		}
		// A Redis that drops packets would hold startup up to the connect timeout: only a
		// check that may fail startup makes it wait.
		if (this.action == Action.WARN) {
			Thread check = new Thread(this::check, "idempotency-eviction-check");
			check.setDaemon(true);
			check.start();
			return;
		}
		check();
	}

	private void check() {
		Properties config;
		try (RedisConnection connection = this.connectionFactory.getConnection()) {
			config = connection.serverCommands().getConfig("maxmemory*");
		}
		catch (DataAccessException ex) {
			// Refused with an error reply, as managed services that evict by default
			// (ElastiCache, for one) refuse CONFIG: whether records may be evicted is not
			// known. Anything else (no answer, a closed connection, a cluster node that
			// failed) is told of by the startup report.
			if (!isRefusal(ex)) {
				logger.debug("Could not read maxmemory-policy from Redis to check that it keeps idempotency records",
						ex);
				return;
			}
			String message = "Redis refused to say whether it may evict idempotency records (CONFIG GET maxmemory*: "
					+ ex.getMostSpecificCause().getMessage() + "); a retry whose record was evicted runs again. Make"
					+ " sure its maxmemory-policy is noeviction.";
			if (this.action == Action.FAIL) {
				throw new IllegalStateException(message + " (idempotency.redis.eviction-check=fail)", ex);
			}
			logger.warn(message + " Set idempotency.redis.eviction-check=off to silence this.");
			return;
		}
		// A factory that hands out no connection, as a test's mock of one does.
		catch (RuntimeException ex) {
			logger.debug("Could not read maxmemory-policy from Redis to check that it keeps idempotency records", ex);
			return;
		}
		Map<String, String> evicting = (config != null) ? evictingNodes(config) : Map.of();
		if (evicting.isEmpty()) {
			return;
		}
		String message = "Redis may evict idempotency records (" + describe(evicting) + "); a retry whose record was"
				+ " evicted runs again. Set maxmemory-policy to noeviction on the Redis holding them.";
		if (this.action == Action.FAIL) {
			throw new IllegalStateException(message + " (idempotency.redis.eviction-check=fail)");
		}
		logger.warn(message + " Set idempotency.redis.eviction-check=off to silence this.");
	}

	// Redis error replies start with an upper-case code: ERR (an unknown or renamed
	// command), NOPERM (an ACL that denies it).
	private static boolean isRefusal(DataAccessException ex) {
		String message = String.valueOf(ex.getMostSpecificCause().getMessage());
		return message.startsWith("ERR") || message.startsWith("NOPERM");
	}

	// The policy of each node that may evict, by node: a cluster connection prefixes
	// each setting with its node and a dot, a single server's has no prefix. A node
	// evicts only under a memory limit of its own.
	private static Map<String, String> evictingNodes(Properties config) {
		Map<String, String> evicting = new TreeMap<>();
		for (String name : config.stringPropertyNames()) {
			if (name.endsWith(POLICY)) {
				String node = name.substring(0, name.length() - POLICY.length());
				String policy = config.getProperty(name).trim();
				String limit = config.getProperty(node + LIMIT, "0").trim();
				if (!policy.equals("noeviction") && !limit.equals("0")) {
					evicting.put(node, LIMIT + " " + limit + ", " + POLICY + " " + policy);
				}
			}
		}
		return evicting;
	}

	private static String describe(Map<String, String> evicting) {
		StringBuilder description = new StringBuilder();
		evicting.forEach((node, settings) -> {
			if (!description.isEmpty()) {
				description.append("; ");
			}
			if (!node.isEmpty()) {
				description.append(node, 0, node.length() - 1).append(": ");
			}
			description.append(settings);
		});
		return description.toString();
	}

	/**
	 * What a Redis that may evict records leads to.
	 */
	public enum Action {

		/**
		 * Log a warning at startup.
		 */
		WARN,

		/**
		 * Fail startup.
		 */
		FAIL,

		/**
		 * Do not check.
		 */
		OFF

	}

}
