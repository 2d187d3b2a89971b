package io.github.idempotency.benchmarks;

import java.util.concurrent.TimeUnit;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.interceptor.Hashing;
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
import org.openjdk.jmh.annotations.Warmup;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;

/**
 * The method path's own cost, with the in-memory store so that no network is measured: a
 * trivial service method returning a record, called through its proxy, plain and
 * {@code @Idempotent}, on the first call and on a replay. The overhead is the difference
 * to {@link #plain()}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = { "-Xms1g", "-Xmx1g" })
public class MethodOverheadBenchmark {

	private static final String FIRST_RECORD = Hashing.recordKey(Quotes.class.getName() + "#idempotent", "first");

	private ConfigurableApplicationContext context;

	private Quotes quotes;

	private IdempotencyStore store;

	@Setup
	public void start() {
		this.context = new SpringApplicationBuilder(MethodApplication.class).web(WebApplicationType.NONE)
			.properties(
					"spring.autoconfigure.exclude="
							+ "org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration,"
							+ "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration",
					"logging.level.root=warn", "spring.main.banner-mode=off")
			.run();
		this.quotes = this.context.getBean(Quotes.class);
		this.store = this.context.getBean(IdempotencyStore.class);
		this.quotes.idempotent("replayed", 2);
	}

	@TearDown
	public void stop() {
		this.context.close();
	}

	@Benchmark
	public Quote plain() {
		return this.quotes.plain("plain", 2);
	}

	// One key, its record deleted after each call, so that every call runs and the
	// in-memory store does not grow.
	@Benchmark
	public Quote firstCall() {
		Quote quote = this.quotes.idempotent("first", 2);
		this.store.delete(FIRST_RECORD);
		return quote;
	}

	@Benchmark
	public Quote replay() {
		return this.quotes.idempotent("replayed", 2);
	}

	/**
	 * What the service returns.
	 *
	 * @param reference the caller's reference
	 * @param quantity a quantity
	 * @param priceCents a price
	 */
	public record Quote(String reference, int quantity, long priceCents) {
	}

	/**
	 * The service: the same body twice, once idempotent.
	 */
	public static class Quotes {

		public Quote plain(String reference, int quantity) {
			return new Quote(reference, quantity, quantity * 1250L);
		}

		@Idempotent(key = "#reference")
		public Quote idempotent(String reference, int quantity) {
			return new Quote(reference, quantity, quantity * 1250L);
		}

	}

	// Not a @Configuration, so that the HTTP benchmark application's component scan
	// leaves it out.
	@EnableAutoConfiguration(excludeName = { "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
			"org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration" })
	@Import(Quotes.class)
	static class MethodApplication {

	}

}
