package io.github.idempotency.benchmarks;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Supplier;

import com.zaxxer.hikari.HikariDataSource;
import io.github.idempotency.annotation.Idempotent;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Profile;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.http.MediaType;
import org.springframework.util.function.SingletonSupplier;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * One trivial JSON handler exposed several ways, so that a load run compares them side by
 * side in one process: plain; plain plus, by hand, the Redis work no idempotency layer
 * can avoid (the floor); and {@code @Idempotent}. Spring Boot's DataSource
 * auto-configuration is left out (a name absent from a line is ignored): the driver and
 * pool are here for the JDBC store's benchmarks, and only the {@code jdbc} profile has a
 * DataSource, with records in PostgreSQL.
 */
@SpringBootApplication(excludeName = { "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
		"org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration" })
public class BenchmarkApplication {

	public static void main(String[] args) {
		SpringApplication.run(BenchmarkApplication.class, args);
	}

	@Bean
	@Profile("jdbc")
	HikariDataSource dataSource(@Value("${benchmark.jdbc-url}") String url) {
		HikariDataSource dataSource = new HikariDataSource();
		dataSource.setJdbcUrl(url);
		dataSource.setMaximumPoolSize(16);
		return dataSource;
	}

	/**
	 * The request and response of every endpoint.
	 *
	 * @param name an item name
	 * @param quantity a quantity
	 */
	public record Item(String name, int quantity) {
	}

	@RestController
	static class Endpoints {

		private static final String PADDING = "x".repeat(960);

		// A 1 MiB body, the largest idempotency.max-response-size stores by default; made
		// once, so that the handler itself copies nothing.
		static final byte[] MEBIBYTE = "x".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII);

		// Absent in the JMH run, which uses the in-memory store and no Redis; looked up
		// once, as the floor must not pay a bean lookup per request that no real handler
		// would.
		private final Supplier<StringRedisTemplate> redis;

		Endpoints(ObjectProvider<StringRedisTemplate> redis) {
			this.redis = SingletonSupplier.of(redis::getObject);
		}

		@PostMapping("/plain")
		Item plain(@RequestBody Item item) {
			return item;
		}

		// First execution's floor: claim (SET NX PX) and store (SET PX), one round trip
		// each.
		@PostMapping("/floor")
		Item floor(@RequestHeader("Idempotency-Key") String key, @RequestBody Item item) {
			StringRedisTemplate redis = this.redis.get();
			redis.opsForValue().setIfAbsent("bench:floor:" + key, "in_progress", Duration.ofSeconds(30));
			redis.opsForValue().set("bench:floor:" + key, "{\"name\":\"" + item.name() + "\"}", Duration.ofHours(1));
			return item;
		}

		// A replay's floor: read the stored response (GET), one round trip.
		@PostMapping("/floor-replay")
		Item floorReplay(@RequestHeader("Idempotency-Key") String key, @RequestBody Item item) {
			this.redis.get().opsForValue().get("bench:floor:" + key);
			return item;
		}

		@PostMapping("/idempotent")
		@Idempotent(ttl = "1h")
		Item idempotent(@RequestBody Item item) {
			return item;
		}

		// JMH's first executions: every key is new, and the in-memory store must not keep
		// millions of them for an hour.
		@PostMapping("/idempotent-short")
		@Idempotent(ttl = "1s")
		Item idempotentShort(@RequestBody Item item) {
			return item;
		}

		// JMH counts the copies of a large body: the plain handler writes it once.
		@PostMapping(path = "/large", produces = MediaType.APPLICATION_OCTET_STREAM_VALUE)
		byte[] large(@RequestBody Item item) {
			return MEBIBYTE;
		}

		@PostMapping(path = "/idempotent-large", produces = MediaType.APPLICATION_OCTET_STREAM_VALUE)
		@Idempotent(ttl = "1h")
		byte[] idempotentLarge(@RequestBody Item item) {
			return MEBIBYTE;
		}

		// About 1 KB of JSON, to measure what one stored record costs Redis.
		@PostMapping("/idempotent-1k")
		@Idempotent(ttl = "1h")
		Item idempotentKilobyte(@RequestBody Item item) {
			return new Item(item.name() + PADDING, item.quantity());
		}

	}

}
