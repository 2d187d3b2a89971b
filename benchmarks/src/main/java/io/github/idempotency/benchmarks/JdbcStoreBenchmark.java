package io.github.idempotency.benchmarks;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.zaxxer.hikari.HikariDataSource;
import io.github.idempotency.ClaimResult;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.store.jdbc.JdbcIdempotencyStore;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The JDBC store against a floor on the same connection pool and database: a claim of a
 * new key against one plain {@code INSERT} of a row of the same shape, a replay (a claim
 * of a completed key) against one plain {@code SELECT} by primary key, and a first
 * request's whole write (claim and complete) against two plain statements. The database
 * is named by the system property {@code jdbc.url} (default: the local PostgreSQL).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(4)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = { "-Xms1g", "-Xmx1g" })
public class JdbcStoreBenchmark {

	private static final Duration LEASE = Duration.ofSeconds(30);

	private static final Duration RETENTION = Duration.ofHours(1);

	private static final StoredResponse RESPONSE = new StoredResponse(201,
			Map.of("Content-Type", List.of("application/json")),
			"{\"id\":\"pay_1\",\"amount\":1000,\"currency\":\"EUR\",\"status\":\"succeeded\"}"
				.getBytes(StandardCharsets.UTF_8));

	private final AtomicLong keys = new AtomicLong();

	private HikariDataSource dataSource;

	private JdbcTemplate jdbc;

	private JdbcIdempotencyStore store;

	private String replayed;

	@Setup
	public void start() {
		this.dataSource = new HikariDataSource();
		this.dataSource
			.setJdbcUrl(System.getProperty("jdbc.url", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres"));
		this.dataSource.setMaximumPoolSize(8);
		this.jdbc = new JdbcTemplate(this.dataSource);
		for (String table : List.of("bench_record", "bench_floor")) {
			this.jdbc.execute("DROP TABLE IF EXISTS " + table);
		}
		this.store = new JdbcIdempotencyStore(this.dataSource, "bench_record");
		this.store.createTable();
		// The floor's table: the store's own, renamed.
		this.jdbc.execute(this.store.schema()
			.replace("bench_record_expires_at", "bench_floor_expires_at")
			.replace("bench_record", "bench_floor"));
		this.replayed = newKey();
		this.store.complete(this.replayed, ((ClaimResult.Claimed) this.store.claim(this.replayed, "fp", LEASE)).token(),
				RESPONSE, RETENTION);
		this.jdbc.update("INSERT INTO bench_floor (record_key, fingerprint, owner_token, created_at, expires_at)"
				+ " VALUES (?, 'fp', 'token', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", this.replayed);
	}

	@TearDown
	public void stop() {
		this.dataSource.close();
	}

	private String newKey() {
		return UUID.randomUUID().toString().replace("-", "") + this.keys.incrementAndGet();
	}

	@Benchmark
	public ClaimResult claim() {
		return this.store.claim(newKey(), "fp", LEASE);
	}

	@Benchmark
	public int floorInsert() {
		return this.jdbc.update("INSERT INTO bench_floor (record_key, fingerprint, owner_token, created_at, expires_at)"
				+ " VALUES (?, 'fp', 'token', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", newKey());
	}

	@Benchmark
	public ClaimResult replay() {
		return this.store.claim(this.replayed, "fp", LEASE);
	}

	@Benchmark
	public Map<String, Object> floorSelect() {
		return this.jdbc.queryForMap("SELECT * FROM bench_floor WHERE record_key = ?", this.replayed);
	}

	@Benchmark
	public boolean claimAndComplete() {
		String key = newKey();
		return this.store.complete(key, ((ClaimResult.Claimed) this.store.claim(key, "fp", LEASE)).token(), RESPONSE,
				RETENTION);
	}

	@Benchmark
	public int floorInsertAndUpdate() {
		String key = newKey();
		this.jdbc.update("INSERT INTO bench_floor (record_key, fingerprint, owner_token, created_at, expires_at)"
				+ " VALUES (?, 'fp', 'token', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", key);
		return this.jdbc.update("UPDATE bench_floor SET status = 201, body = ? WHERE record_key = ?", RESPONSE.body(),
				key);
	}

}
