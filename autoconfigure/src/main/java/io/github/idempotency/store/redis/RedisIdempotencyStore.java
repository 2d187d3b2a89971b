package io.github.idempotency.store.redis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyRecord;
import io.github.idempotency.IdempotencyRecord.State;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.UnreadableRecordException;

import org.springframework.core.io.ClassPathResource;
import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.RedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.data.redis.serializer.RedisSerializer;
import org.springframework.util.Assert;
import org.springframework.util.StringUtils;

/**
 * An {@link IdempotencyStore} in Redis, shared by every node of an application.
 *
 * <p>
 * Each record is one string under {@code <prefix>:{<record key>}} (its layout is in
 * {@link RedisRecord}); the braces make the whole name a hash tag, so a record and
 * anything kept beside it land in one Redis Cluster slot. Claim, renewal, completion and
 * release are each one Lua script over that single key: one round trip each, atomic, and
 * sent by SHA with a fallback to the full script when Redis has forgotten it (after a
 * restart or failover). Every expiry is relative ({@code PX} or {@code PEXPIRE}), so
 * clocks of the application nodes never matter.
 *
 * <p>
 * Thread-safe.
 *
 * @since 0.1.0
 */
public class RedisIdempotencyStore implements IdempotencyStore {

	/**
	 * The record format this version writes, as {@code major} or {@code major.minor}. A
	 * minor version only appends fields, so records of any version with the same major
	 * are read; a record of another major is never overwritten, and is reported as a
	 * store failure.
	 */
	static final String FORMAT_VERSION = "1";

	private static final RedisScript<byte[]> CLAIM = script("claim.lua", byte[].class);

	// How the claim script starts its reply about a record it cannot read.
	private static final String UNREADABLE = "unreadable ";

	private static final RedisScript<Long> COMPLETE = script("complete.lua", Long.class);

	private static final RedisScript<Long> RENEW = script("renew.lua", Long.class);

	private static final RedisScript<Long> RELEASE = script("release.lua", Long.class);

	private static final RedisScript<List> INSPECT = script("inspect.lua", List.class);

	private static final RedisSerializer<byte[]> BYTES = RedisSerializer.byteArray();

	private final RedisTemplate<String, byte[]> redis;

	private final String keyPrefix;

	private final String description;

	/**
	 * @param connectionFactory the connection to Redis
	 * @param keyPrefix the prefix of every record's name, such as {@code idempotency} or
	 * the application's name
	 */
	public RedisIdempotencyStore(RedisConnectionFactory connectionFactory, String keyPrefix) {
		Assert.hasText(keyPrefix, "keyPrefix must not be empty");
		RedisTemplate<String, byte[]> template = new RedisTemplate<>();
		template.setConnectionFactory(connectionFactory);
		template.setKeySerializer(RedisSerializer.string());
		template.setValueSerializer(BYTES);
		// Only Spring Data's own script executor uses the connection, so it needs no
		// close-suppressing proxy, which would be built by reflection on every call.
		template.setExposeConnection(true);
		template.afterPropertiesSet();
		this.redis = template;
		this.keyPrefix = keyPrefix;
		this.description = "Redis (" + describe(connectionFactory) + ", key prefix '" + keyPrefix + "')";
	}

	private static String describe(RedisConnectionFactory connectionFactory) {
		if (connectionFactory instanceof LettuceConnectionFactory lettuce) {
			if (lettuce.isClusterAware()) {
				return "cluster";
			}
			if (lettuce.isRedisSentinelAware() && lettuce.getSentinelConfiguration() != null
					&& lettuce.getSentinelConfiguration().getMaster() != null) {
				return "Sentinel, master " + lettuce.getSentinelConfiguration().getMaster().getName();
			}
			return "standalone " + lettuce.getHostName() + ":" + lettuce.getPort();
		}
		return connectionFactory.getClass().getSimpleName();
	}

	/**
	 * Where records live, for logs: the topology and address of the Redis, and the key
	 * prefix.
	 */
	@Override
	public String toString() {
		return this.description;
	}

	/**
	 * The Redis key of a record.
	 * @param key the record key
	 * @return the name of the string holding it
	 */
	public String redisKey(String key) {
		return this.keyPrefix + ":{" + key + "}";
	}

	@Override
	public ClaimResult claim(String key, String fingerprint, Duration lease) {
		Assert.isTrue(StringUtils.hasText(fingerprint) && !StringUtils.containsWhitespace(fingerprint),
				"fingerprint must be a single word");
		String token = newToken();
		byte[] reply = execute(CLAIM, key, bytes(fingerprint), bytes(token), millis(lease),
				bytes(String.valueOf(System.currentTimeMillis())), bytes(FORMAT_VERSION));
		// A record starts with its version, a digit; every other reply is a word.
		if (reply.length > 0 && Character.isDigit(reply[0])) {
			return new ClaimResult.Completed(read(key, reply).response());
		}
		String answer = string(reply);
		return switch (answer) {
			case "claimed" -> new ClaimResult.Claimed(token);
			case "in_progress" -> new ClaimResult.InProgress();
			case "mismatch" -> new ClaimResult.Mismatch();
			default -> {
				if (answer.startsWith(UNREADABLE)) {
					throw new UnreadableRecordException(redisKey(key),
							"it has " + answer.substring(UNREADABLE.length()) + ", which this version cannot read",
							null);
				}
				throw new IdempotencyStoreException("Unexpected claim reply '" + answer + "'");
			}
		};
	}

	@Override
	public boolean complete(String key, String token, StoredResponse response, Duration retention) {
		Long stored = execute(COMPLETE, key, bytes(token), millis(retention), bytes(String.valueOf(response.status())),
				HeaderLines.encode(response.headers()), response.body(),
				bytes(String.valueOf(System.currentTimeMillis())));
		return stored == 1L;
	}

	@Override
	public boolean renew(String key, String token, Duration lease) {
		Long renewed = execute(RENEW, key, bytes(token), millis(lease));
		return renewed == 1L;
	}

	@Override
	public boolean release(String key, String token) {
		Long released = execute(RELEASE, key, bytes(token));
		return released == 1L;
	}

	// Replies hold raw bytes: the bodies are binary, and integers come back as Long
	// whatever the serializer.
	@SuppressWarnings({ "unchecked", "rawtypes" })
	@Override
	public Optional<IdempotencyRecord> find(String key) {
		List<?> reply = execute(INSPECT, key);
		if (reply.isEmpty()) {
			return Optional.empty();
		}
		byte[] value = (byte[]) reply.get(0);
		String version = RedisRecord.version(value);
		if (!major(version).equals(major(FORMAT_VERSION))) {
			throw new UnreadableRecordException(redisKey(key),
					"it has format version '" + version + "', which this version cannot read", null);
		}
		RedisRecord record = read(key, value);
		return Optional.of(new IdempotencyRecord(record.completed() ? State.COMPLETED : State.IN_PROGRESS,
				record.fingerprint(), record.createdAt(), record.completedAt(),
				Duration.ofMillis(Math.max(0, Long.parseLong(string(reply.get(1))))), record.response()));
	}

	@Override
	public boolean delete(String key) {
		try {
			return Boolean.TRUE.equals(this.redis.delete(redisKey(key)));
		}
		catch (DataAccessException ex) {
			throw new IdempotencyStoreException("Redis failed: " + ex.getMessage(), ex);
		}
	}

	private static String major(String version) {
		int dot = version.indexOf('.');
		return (dot >= 0) ? version.substring(0, dot) : version;
	}

	private RedisRecord read(String key, byte[] value) {
		try {
			return RedisRecord.parse(value);
		}
		// Anything can write to Redis: every way a record can fail to parse means the
		// same, and none may reach a client.
		catch (RuntimeException ex) {
			throw new UnreadableRecordException(redisKey(key), String.valueOf(ex.getMessage()), ex);
		}
	}

	private <T> T execute(RedisScript<T> script, String key, byte[]... arguments) {
		T reply;
		try {
			reply = (T) this.redis.execute((RedisScript) script, BYTES, (RedisSerializer) BYTES, List.of(redisKey(key)),
					(Object[]) arguments);
		}
		catch (DataAccessException ex) {
			throw new IdempotencyStoreException("Redis failed: " + ex.getMessage(), ex);
		}
		if (reply == null) {
			throw new IdempotencyStoreException("Redis returned no reply (inside a transaction or pipeline?)");
		}
		return reply;
	}

	// 128 random bits: tokens must be unique among the claims of one key, not secret,
	// since they never leave the server; so a lock-free generator serves better than
	// SecureRandom's shared one.
	private static String newToken() {
		ThreadLocalRandom random = ThreadLocalRandom.current();
		return HexFormat.of().toHexDigits(random.nextLong()) + HexFormat.of().toHexDigits(random.nextLong());
	}

	private static byte[] millis(Duration duration) {
		return bytes(String.valueOf(Math.max(1, duration.toMillis())));
	}

	private static byte[] bytes(String value) {
		return value.getBytes(StandardCharsets.UTF_8);
	}

	private static String string(Object reply) {
		return new String((byte[]) reply, StandardCharsets.UTF_8);
	}

	// Read once into a string: a script made from a Resource checks the resource for
	// changes, through the class loader's URLs, every time it is sent.
	private static <T> RedisScript<T> script(String name, Class<T> resultType) {
		try {
			return RedisScript.of(
					new ClassPathResource(name, RedisIdempotencyStore.class).getContentAsString(StandardCharsets.UTF_8),
					resultType);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not read the script " + name, ex);
		}
	}

}
