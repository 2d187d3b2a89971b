package io.github.idempotency.store.redis;

import io.github.idempotency.store.OwnerTokens;
import io.github.idempotency.store.HeaderLines;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyRecord;
import io.github.idempotency.IdempotencyRecord.State;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.UnreadableRecordException;
import org.jspecify.annotations.Nullable;

import org.springframework.core.io.ClassPathResource;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.data.redis.RedisConnectionFailureException;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.RedisStringCommands.SetOption;
import org.springframework.data.redis.connection.ReturnType;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.data.redis.core.types.Expiration;
import org.springframework.util.Assert;
import org.springframework.util.StringUtils;

/**
 * An {@link IdempotencyStore} in Redis, shared by every node of an application.
 *
 * <p>
 * Each record is one string under {@code <prefix>:{<record key>}} (its layout is in
 * {@link RedisRecord}); the braces make the whole name a hash tag, so a record and
 * anything kept beside it land in one Redis Cluster slot. Claim, renewal, completion and
 * release each take one round trip over that single key, and are atomic. On Redis 7.0 and
 * later a claim is one native {@code SET ... NX GET PX}, which writes the claim or
 * returns the record already there; the store reads that record and decides as the claim
 * script would. A server before 7.0 refuses {@code NX} with {@code GET} as a syntax
 * error, changing nothing: the store then claims with the claim script from then on (on
 * Redis 6.2 from its first claim; after a failover to an older replica, from there).
 * Renewal, completion and release act only if the record is still, byte for byte, the
 * claim the owner wrote: the owner token names that claim whole (owner, claim time and
 * fingerprint), so the store rebuilds it and has it compared as one string. On Redis 8.4
 * and later, and Valkey 8.1 and later, a completion is one native
 * {@code SET ... IFEQ <claim> PX}; a server without {@code IFEQ} refuses it with its
 * generic error ({@code ERR syntax error} on Redis 7), changing nothing, and the store
 * completes with the completion script from then on; any other refusal sends that one
 * completion to the script, which reports it. Renewal and release, and completion
 * elsewhere, are Lua scripts, sent by SHA with a fallback to the full script when Redis
 * has forgotten it (after a restart or failover). Every expiry is relative ({@code PX} or
 * {@code PEXPIRE}), so clocks of the application nodes never matter. A claim that finds
 * exactly what it writes counts as done: the client sent it again after a reconnect. So
 * does a completion that finds the record completed under its claim, which it leaves as
 * it is: sent again, or tried again after a failure that came after Redis stored it. The
 * store takes its own connections from the factory, never one bound to the thread by a
 * template with transaction support.
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

	// The errors of a native claim that the claim script answers instead: the key holds
	// another type (which the script names), or the server takes no writes (out of
	// memory under noeviction, too few replicas, a failed snapshot, a replica).
	private static final List<String> SCRIPT_DECIDES = List.of("WRONGTYPE", "OOM", "NOREPLICAS", "MISCONF", "READONLY");

	private static final byte[] IFEQ = bytes("IFEQ");

	private static final byte[] PX = bytes("PX");

	private final RedisConnectionFactory connectionFactory;

	private final String keyPrefix;

	private final String description;

	// Whether claims start with SET ... NX GET: until the server refuses it as older than
	// 7.0.
	private volatile boolean nativeClaim;

	// Whether completions start with SET ... IFEQ: until the server refuses it as older
	// than Redis 8.4 or Valkey 8.1.
	private volatile boolean nativeCompletion;

	/**
	 * @param connectionFactory the connection to Redis
	 * @param keyPrefix the prefix of every record's name, such as {@code idempotency} or
	 * the application's name
	 */
	public RedisIdempotencyStore(RedisConnectionFactory connectionFactory, String keyPrefix) {
		this(connectionFactory, keyPrefix, true);
	}

	/**
	 * @param nativeCommands {@code false} to claim and complete with the scripts whatever
	 * the server, for tests of the scripts on servers that have the native commands
	 */
	RedisIdempotencyStore(RedisConnectionFactory connectionFactory, String keyPrefix, boolean nativeCommands) {
		Assert.hasText(keyPrefix, "keyPrefix must not be empty");
		this.nativeClaim = nativeCommands;
		this.nativeCompletion = nativeCommands;
		this.connectionFactory = connectionFactory;
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
	 * The connections this store's records are kept through.
	 * @return the connection factory
	 */
	public RedisConnectionFactory connectionFactory() {
		return this.connectionFactory;
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
		ClaimToken claim = new ClaimToken(OwnerTokens.newToken(), String.valueOf(System.currentTimeMillis()),
				fingerprint);
		if (this.nativeClaim) {
			ClaimResult result = claimNatively(key, claim, lease);
			if (result != null) {
				return result;
			}
		}
		byte[] reply = execute(CLAIM, key, bytes(fingerprint), bytes(claim.owner()), millis(lease),
				bytes(claim.createdAt()), bytes(FORMAT_VERSION));
		// A record starts with its version, a digit; every other reply is a word.
		if (reply.length > 0 && Character.isDigit(reply[0])) {
			return new ClaimResult.Completed(read(key, reply).response());
		}
		String answer = string(reply);
		return switch (answer) {
			case "claimed" -> new ClaimResult.Claimed(claim.token());
			case "in_progress" -> new ClaimResult.InProgress();
			case "mismatch" -> new ClaimResult.Mismatch();
			default -> {
				if (answer.startsWith(UNREADABLE)) {
					throw unreadable(key, answer.substring(UNREADABLE.length()));
				}
				throw new IdempotencyStoreException("Unexpected claim reply '" + answer + "'");
			}
		};
	}

	// Null when the script must decide: the server refused the command, which changes
	// nothing, because it is older than 7.0 (from then on) or for one of SCRIPT_DECIDES.
	// Redis refuses a write command before it reads anything, where the script, whose
	// only write is the claim of an absent key, still answers for a key claimed or
	// completed before.
	private @Nullable ClaimResult claimNatively(String key, ClaimToken claim, Duration lease) {
		byte[] record = claim.record();
		byte[] existing;
		try {
			existing = withConnection((connection) -> connection.stringCommands()
				.setGet(bytes(redisKey(key)), record, Expiration.milliseconds(Math.max(1, lease.toMillis())),
						SetOption.ifAbsent()));
		}
		catch (DataAccessException ex) {
			if (isSyntaxError(ex)) {
				this.nativeClaim = false;
				return null;
			}
			String error = String.valueOf(ex.getMostSpecificCause().getMessage());
			if (SCRIPT_DECIDES.stream().anyMatch(error::startsWith)) {
				return null;
			}
			throw failed(ex);
		}
		return (existing != null) ? decide(key, existing, claim) : new ClaimResult.Claimed(claim.token());
	}

	// What the claim script decides about a record it finds, from the record itself.
	private ClaimResult decide(String key, byte[] record, ClaimToken claim) {
		// This very claim: the client sent the command again after a reconnect, as
		// Lettuce does with commands that had no reply yet.
		if (Arrays.equals(record, claim.record())) {
			return new ClaimResult.Claimed(claim.token());
		}
		String fingerprint = claim.fingerprint();
		RedisRecord.Head head = RedisRecord.head(record);
		if (head == null || !leadingDigits(head.version()).equals(leadingDigits(FORMAT_VERSION))) {
			throw unreadable(key, "format version '" + ((head != null) ? utf8(head.version()) : "") + "'");
		}
		// The words hold the record's bytes, one char each: compared byte for byte, as
		// the script compares them.
		if (!head.fingerprint().equals(new String(bytes(fingerprint), StandardCharsets.ISO_8859_1))) {
			return new ClaimResult.Mismatch();
		}
		if (head.state().equals("in_progress")) {
			return new ClaimResult.InProgress();
		}
		return new ClaimResult.Completed(read(key, record).response());
	}

	private static String utf8(String bytesAsChars) {
		return new String(bytesAsChars.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
	}

	private static String leadingDigits(String version) {
		int end = 0;
		while (end < version.length() && Character.isDigit(version.charAt(end))) {
			end++;
		}
		return version.substring(0, end);
	}

	private UnreadableRecordException unreadable(String key, String what) {
		return new UnreadableRecordException(redisKey(key), "it has " + what + ", which this version cannot read",
				null);
	}

	@Override
	public boolean complete(String key, String token, StoredResponse response, Duration retention) {
		ClaimToken claim = ClaimToken.parse(token);
		if (claim == null) {
			return false;
		}
		byte[] headers = HeaderLines.encode(response.headers());
		// The owner stays in the record, so that a completion tried again finds its own.
		String completedClaim = FORMAT_VERSION + " completed " + claim.fingerprint() + " " + claim.owner() + " "
				+ claim.createdAt() + " ";
		byte[] head = bytes(
				completedClaim + System.currentTimeMillis() + " " + response.status() + " " + headers.length + "\n");
		if (this.nativeCompletion) {
			Boolean stored = completeNatively(key, claim, join(head, headers, response.body()), retention);
			if (stored != null) {
				return stored;
			}
		}
		// The body goes as its own argument, so that the application does not copy it.
		Long stored = execute(COMPLETE, key, claim.record(), join(head, headers), response.body(), millis(retention),
				bytes(completedClaim));
		return stored == 1L;
	}

	// True when stored; null when the server refused the command, which changes nothing,
	// or did not store: the script then decides. The record goes as one argument, so the
	// body is copied into it.
	private @Nullable Boolean completeNatively(String key, ClaimToken claim, byte[] record, Duration retention) {
		byte[] name = bytes(redisKey(key));
		byte[] expected = claim.record();
		byte[] millis = millis(retention);
		Object reply;
		try {
			// Every argument goes as a key, so a cluster connection routes by the first.
			reply = withConnection((connection) -> connection.execute("SET", name, record, IFEQ, expected, PX, millis));
		}
		catch (QueryTimeoutException | RedisConnectionFailureException ex) {
			// Whether the command ran is not known, so nothing may be sent after it.
			throw failed(ex);
		}
		catch (DataAccessException ex) {
			// A server without IFEQ refuses it with its generic error (Redis: "ERR syntax
			// error") and is not asked again; other refusals (a key of another type, a
			// replica that became read-only) are the script's to report.
			if (String.valueOf(ex.getMostSpecificCause().getMessage()).startsWith("ERR")) {
				this.nativeCompletion = false;
			}
			return null;
		}
		// OK when stored. No reply when the key held anything but the claim: the script
		// then tells, on the primary and without sending the record back, whether what it
		// holds is a completion under this claim, stored by an earlier attempt or by an
		// earlier send of the command that the client repeated after a reconnect.
		return (reply != null) ? Boolean.TRUE : null;
	}

	// How a server refuses an option it does not know, changing nothing.
	private static boolean isSyntaxError(DataAccessException ex) {
		return String.valueOf(ex.getMostSpecificCause().getMessage()).startsWith("ERR syntax error");
	}

	private static byte[] join(byte[]... parts) {
		int length = 0;
		for (byte[] part : parts) {
			length += part.length;
		}
		byte[] joined = new byte[length];
		int at = 0;
		for (byte[] part : parts) {
			System.arraycopy(part, 0, joined, at, part.length);
			at += part.length;
		}
		return joined;
	}

	@Override
	public boolean renew(String key, String token, Duration lease) {
		ClaimToken claim = ClaimToken.parse(token);
		return claim != null && execute(RENEW, key, claim.record(), millis(lease)) == 1L;
	}

	@Override
	public boolean release(String key, String token) {
		ClaimToken claim = ClaimToken.parse(token);
		return claim != null && execute(RELEASE, key, claim.record()) == 1L;
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
			throw unreadable(key, "format version '" + version + "'");
		}
		RedisRecord record = read(key, value);
		return Optional.of(new IdempotencyRecord(record.completed() ? State.COMPLETED : State.IN_PROGRESS,
				record.fingerprint(), record.createdAt(), record.completedAt(),
				Duration.ofMillis(Math.max(0, Long.parseLong(string(reply.get(1))))), record.response()));
	}

	@Override
	public boolean delete(String key) {
		try {
			Long deleted = withConnection((connection) -> connection.keyCommands().del(bytes(redisKey(key))));
			return deleted != null && deleted > 0;
		}
		catch (DataAccessException ex) {
			throw failed(ex);
		}
	}

	// Spring's message names the operation ("Error in execution"), the cause the server's
	// or the client's reason (WRONGTYPE, OOM, a refused connection): both go in, once.
	private static IdempotencyStoreException failed(DataAccessException ex) {
		String message = String.valueOf(ex.getMessage());
		Throwable cause = ex.getMostSpecificCause();
		String reason = (cause.getMessage() != null) ? cause.getMessage() : cause.toString();
		if (cause != ex && !message.contains(reason)) {
			message = message + ": " + reason;
		}
		return new IdempotencyStoreException("Redis failed: " + message, ex);
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

	// Sent by SHA, and whole when the server does not know it (after SCRIPT FLUSH, a
	// restart, or a failover to a replica that never ran it).
	private <T> T execute(RedisScript<T> script, String key, byte[]... arguments) {
		byte[][] keysAndArguments = new byte[arguments.length + 1][];
		keysAndArguments[0] = bytes(redisKey(key));
		System.arraycopy(arguments, 0, keysAndArguments, 1, arguments.length);
		ReturnType type = ReturnType.fromJavaType(script.getResultType());
		T reply;
		try {
			reply = withConnection((connection) -> {
				try {
					return connection.scriptingCommands().evalSha(script.getSha1(), type, 1, keysAndArguments);
				}
				catch (DataAccessException ex) {
					if (!isUnknownScript(ex)) {
						throw ex;
					}
					return connection.scriptingCommands()
						.eval(bytes(script.getScriptAsString()), type, 1, keysAndArguments);
				}
			});
		}
		catch (DataAccessException ex) {
			throw failed(ex);
		}
		if (reply == null) {
			throw new IdempotencyStoreException("Redis returned no reply to the " + script.getSha1() + " script");
		}
		return reply;
	}

	private static boolean isUnknownScript(Throwable ex) {
		// Bounded: causes may form a cycle.
		Throwable cause = ex;
		for (int depth = 0; cause != null && depth < 32; depth++, cause = cause.getCause()) {
			if (cause.getMessage() != null && cause.getMessage().startsWith("NOSCRIPT")) {
				return true;
			}
		}
		return false;
	}

	// A connection of the store's own, never one another template bound to the thread:
	// inside its MULTI or pipeline, commands would be queued, to run at its EXEC or to be
	// thrown away by its DISCARD. Failures other than Redis's (a connection factory that
	// was stopped as the application shuts down) are the store's failures too.
	private <T> @Nullable T withConnection(Function<RedisConnection, @Nullable T> action) {
		try (RedisConnection connection = this.connectionFactory.getConnection()) {
			return action.apply(connection);
		}
		catch (DataAccessException | IdempotencyStoreException ex) {
			throw ex;
		}
		catch (RuntimeException ex) {
			throw new IdempotencyStoreException("Redis failed: " + ex, ex);
		}
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

	/**
	 * What an owner token of this store names: the claim record it wrote, whole.
	 *
	 * @param owner 32 random hex digits, unique among the claims of a key
	 * @param createdAt the claim's time, epoch milliseconds
	 * @param fingerprint the fingerprint of the request that claimed
	 */
	private record ClaimToken(String owner, String createdAt, String fingerprint) {

		// Neither the owner nor the time holds a slash; the fingerprint may.
		private static final char SEPARATOR = '/';

		static @Nullable ClaimToken parse(String token) {
			int first = token.indexOf(SEPARATOR);
			int second = (first >= 0) ? token.indexOf(SEPARATOR, first + 1) : -1;
			if (second < 0) {
				return null;
			}
			return new ClaimToken(token.substring(0, first), token.substring(first + 1, second),
					token.substring(second + 1));
		}

		String token() {
			return this.owner + SEPARATOR + this.createdAt + SEPARATOR + this.fingerprint;
		}

		// The claim as the native claim and the claim script write it (see RedisRecord).
		byte[] record() {
			return bytes(FORMAT_VERSION + " in_progress " + this.fingerprint + " " + this.owner + " " + this.createdAt
					+ " - - 0\n");
		}

	}

}
