package io.github.idempotency.store.redis;

import java.util.Properties;

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
 * Redis services that refuse {@code CONFIG GET} cannot be checked; that is logged at
 * debug level only.
 *
 * @since 0.1.0
 */
public class RedisEvictionPolicyCheck implements SmartInitializingSingleton {

	private static final Log logger = LogFactory.getLog(RedisEvictionPolicyCheck.class);

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
		Properties config;
		try (RedisConnection connection = this.connectionFactory.getConnection()) {
			config = connection.serverCommands().getConfig("maxmemory*");
		}
		catch (DataAccessException ex) {
			logger.debug("Could not read maxmemory-policy from Redis to check that it keeps idempotency records", ex);
			return;
		}
		if (config == null || !evicts(config)) {
			return;
		}
		String message = "Redis may evict idempotency records (" + config + "); a retry whose record was evicted runs"
				+ " again. Set maxmemory-policy to noeviction on the Redis holding them.";
		if (this.action == Action.FAIL) {
			throw new IllegalStateException(message + " (idempotency.redis.eviction-check=fail)");
		}
		logger.warn(message + " Set idempotency.redis.eviction-check=off to silence this.");
	}

	// Cluster connections prefix each setting with its node, so match on the name's end.
	private static boolean evicts(Properties config) {
		boolean limited = false;
		boolean evicting = false;
		for (String name : config.stringPropertyNames()) {
			String value = config.getProperty(name).trim();
			if (name.endsWith("maxmemory") && !value.equals("0")) {
				limited = true;
			}
			if (name.endsWith("maxmemory-policy") && !value.equals("noeviction")) {
				evicting = true;
			}
		}
		return limited && evicting;
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
