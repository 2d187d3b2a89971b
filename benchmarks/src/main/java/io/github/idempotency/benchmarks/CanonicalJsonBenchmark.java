package io.github.idempotency.benchmarks;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.json.Jackson2JsonCanonicalizer;
import io.github.idempotency.json.Jackson3JsonCanonicalizer;
import io.github.idempotency.json.JsonCanonicalizer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import org.springframework.util.ClassUtils;

/**
 * Putting a JSON body in canonical form for its fingerprint, with the Jackson generation
 * of the Spring Boot line it runs on: the same document with its members in order (the
 * floor: nothing to reorder) and in reverse order. {@code payment} is a small request
 * body of nested objects; {@code nested} is an object 200 levels deep around a 100 KB
 * string, every level out of order, which costs a copy per level where objects are
 * reordered as they close.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = { "-Xms1g", "-Xmx1g" })
public class CanonicalJsonBenchmark {

	@Param({ "payment", "nested" })
	public String document;

	private JsonCanonicalizer canonicalizer;

	private byte[] ordered;

	private byte[] reversed;

	@Setup
	public void prepare() {
		this.canonicalizer = ClassUtils.isPresent("tools.jackson.core.JsonParser", null)
				? new Jackson3JsonCanonicalizer() : new Jackson2JsonCanonicalizer();
		if (this.document.equals("payment")) {
			StringBuilder items = new StringBuilder();
			StringBuilder reversedItems = new StringBuilder();
			for (int i = 0; i < 10; i++) {
				items.append(i > 0 ? "," : "")
					.append("{\"price\":12.5,\"quantity\":")
					.append(i)
					.append(",\"sku\":\"sku-")
					.append(i)
					.append("\"}");
				reversedItems.append(i > 0 ? "," : "")
					.append("{\"sku\":\"sku-")
					.append(i)
					.append("\",\"quantity\":")
					.append(i)
					.append(",\"price\":12.5}");
			}
			this.ordered = bytes("{\"amount\":{\"currency\":\"EUR\",\"value\":125.00},\"customer\":{\"email\":"
					+ "\"alice@example.com\",\"id\":\"c-42\"},\"items\":[" + items + "],\"reference\":\"order-42\"}");
			this.reversed = bytes("{\"reference\":\"order-42\",\"items\":[" + reversedItems + "],\"customer\":"
					+ "{\"id\":\"c-42\",\"email\":\"alice@example.com\"},\"amount\":{\"value\":125.00,\"currency\":\"EUR\"}}");
		}
		else {
			String value = "\"" + "x".repeat(100_000) + "\"";
			this.ordered = bytes("{\"a\":0,\"z\":".repeat(200) + value + "}".repeat(200));
			this.reversed = bytes("{\"z\":".repeat(200) + value + ",\"a\":0}".repeat(200));
		}
		if (!new String(this.canonicalizer.canonicalize(this.ordered), StandardCharsets.ISO_8859_1)
			.equals(new String(this.canonicalizer.canonicalize(this.reversed), StandardCharsets.ISO_8859_1))) {
			throw new IllegalStateException("Both spellings must have one canonical form");
		}
	}

	private static byte[] bytes(String json) {
		return json.getBytes(StandardCharsets.UTF_8);
	}

	@Benchmark
	public byte[] ordered() {
		return this.canonicalizer.canonicalize(this.ordered);
	}

	@Benchmark
	public byte[] reversed() {
		return this.canonicalizer.canonicalize(this.reversed);
	}

}
