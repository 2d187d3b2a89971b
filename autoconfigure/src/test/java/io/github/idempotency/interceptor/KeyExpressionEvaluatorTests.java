package io.github.idempotency.interceptor;

import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import org.springframework.expression.EvaluationException;
import org.springframework.util.ReflectionUtils;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Expressions that only name an argument are read directly; they must give what SpEL
 * gives for them.
 */
class KeyExpressionEvaluatorTests {

	private final KeyExpressionEvaluator evaluator = new KeyExpressionEvaluator();

	private final Method method = ReflectionUtils.findMethod(Samples.class, "book", String.class, Integer.class,
			String.class);

	private final Object[] arguments = { "order-1", 3, "as-named" };

	@Test
	void argumentByNameOrPositionShouldBeReadDirectly() {
		assertThat(this.evaluator.value("#reference", this.method, this.arguments)).isEqualTo("order-1");
		assertThat(this.evaluator.value("#p1", this.method, this.arguments)).isEqualTo(3);
		assertThat(this.evaluator.value("#a0", this.method, this.arguments)).isEqualTo("order-1");
		assertThat(this.evaluator.evaluate(" #count ", this.method, this.arguments)).isEqualTo("3");
	}

	@Test
	void namesShouldResolveAsSpelDefinesThemInTurn() {
		// #p2 is defined by position and by name for the same argument.
		assertThat(this.evaluator.value("#p2", this.method, this.arguments)).isEqualTo("as-named");
		// A parameter named p1 is replaced by the second argument's #p1, as in SpEL.
		Method shadowed = ReflectionUtils.findMethod(Samples.class, "shadow", String.class, String.class);
		Object[] pair = { "first", "second" };
		assertThat(this.evaluator.value("#p1", shadowed, pair)).isEqualTo("second");
		assertThat(this.evaluator.value("#p01", shadowed, pair)).isNull();
		assertThat(this.evaluator.value("#root", shadowed, pair)).isEqualTo(pair);
	}

	@Test
	void nullArgumentShouldGiveNull() {
		assertThat(this.evaluator.evaluate("#reference", this.method, new Object[] { null, 1, "x" })).isNull();
	}

	@Test
	void anythingElseShouldGoThroughSpel() {
		assertThat(this.evaluator.value("#reference + '-' + #count", this.method, this.arguments))
			.isEqualTo("order-1-3");
		assertThat(this.evaluator.value("#root[1]", this.method, this.arguments)).isEqualTo(3);
		assertThat(this.evaluator.value("#unknown", this.method, this.arguments)).isNull();
	}

	// As a Kafka header's value or a record's key arrives: a new array on each delivery,
	// whose identity text would make every delivery a key of its own.
	@Test
	void bytesShouldBeReadAsText() {
		Method take = ReflectionUtils.findMethod(Samples.class, "take", Object.class);
		byte[] bytes = "event-1".getBytes(StandardCharsets.UTF_8);
		assertThat(this.evaluator.evaluate("#p0", take, new Object[] { bytes })).isEqualTo("event-1");
		assertThat(this.evaluator.evaluate("#p0", take, new Object[] { bytes.clone() })).isEqualTo("event-1");
		ByteBuffer buffer = ByteBuffer.wrap("xevent-1".getBytes(StandardCharsets.UTF_8), 1, 7);
		assertThat(this.evaluator.evaluate("#p0", take, new Object[] { buffer })).isEqualTo("event-1");
		assertThat(buffer.remaining()).isEqualTo(7);
	}

	// A number a serializer wrote in binary, or bytes that are not UTF-8: the same bytes
	// give the same key, one without control characters.
	@Test
	void bytesThatAreNotTextShouldBeTakenInBase64() {
		Method take = ReflectionUtils.findMethod(Samples.class, "take", Object.class);
		byte[] number = ByteBuffer.allocate(8).putLong(42).array();
		assertThat(this.evaluator.evaluate("#p0", take, new Object[] { number })).isEqualTo("AAAAAAAAACo");
		assertThat(this.evaluator.evaluate("#p0", take, new Object[] { ByteBuffer.wrap(number) }))
			.isEqualTo("AAAAAAAAACo");
		assertThat(this.evaluator.evaluate("#p0", take, new Object[] { new byte[] { (byte) 0xC3 } })).isEqualTo("ww");
	}

	@Test
	void valueWhoseTextDiffersBetweenEqualValuesShouldFail() {
		Method take = ReflectionUtils.findMethod(Samples.class, "take", Object.class);
		assertThatExceptionOfType(EvaluationException.class)
			.isThrownBy(() -> this.evaluator.evaluate("#p0", take, new Object[] { new Object() }))
			.withMessageContaining("java.lang.Object");
		assertThatExceptionOfType(EvaluationException.class)
			.isThrownBy(() -> this.evaluator.evaluate("#p0", take, new Object[] { new long[] { 1 } }))
			.withMessageContaining("long[]");
		assertThatExceptionOfType(EvaluationException.class)
			.isThrownBy(() -> this.evaluator.evaluate("#root", this.method, this.arguments));
		assertThat(this.evaluator.evaluate("#p0", take, new Object[] { new Reference("order-1") }))
			.isEqualTo("Reference[id=order-1]");
		assertThat(this.evaluator.evaluate("#p0", take, new Object[] { 42L })).isEqualTo("42");
	}

	// What an Optional holds is the key: an empty one is none, rather than one key that
	// every call without a value would share.
	@Test
	void optionalShouldCountAsWhatItHolds() {
		Method take = ReflectionUtils.findMethod(Samples.class, "take", Object.class);
		assertThat(this.evaluator.evaluate("#p0", take, new Object[] { Optional.of("order-1") })).isEqualTo("order-1");
		assertThat(this.evaluator.evaluate("#p0", take, new Object[] { Optional.empty() })).isNull();
		assertThatExceptionOfType(EvaluationException.class)
			.isThrownBy(() -> this.evaluator.evaluate("#p0", take, new Object[] { Optional.of(new Object()) }))
			.withMessageContaining("java.lang.Object");
	}

	// Equal sets and maps may list their members in another order (Set.of's changes from
	// one JVM to the next): only sorted ones, and lists, make keys, of members that do.
	@Test
	void setOrMapWhoseOrderMayDifferOrMembersWhoseTextDiffersShouldFail() {
		Method take = ReflectionUtils.findMethod(Samples.class, "take", Object.class);
		assertThatExceptionOfType(EvaluationException.class)
			.isThrownBy(() -> this.evaluator.evaluate("#p0", take, new Object[] { Set.of("order-1", "order-2") }))
			.withMessageContaining("ImmutableCollections");
		assertThatExceptionOfType(EvaluationException.class)
			.isThrownBy(() -> this.evaluator.evaluate("#p0", take, new Object[] { new HashMap<>(Map.of("a", 1)) }))
			.withMessageContaining("java.util.HashMap");
		assertThatExceptionOfType(EvaluationException.class)
			.isThrownBy(() -> this.evaluator.evaluate("#p0", take,
					new Object[] { new HashMap<>(Map.of("a", 1, "b", 2)).values() }))
			.withMessageContaining("java.util.HashMap$Values");
		assertThatExceptionOfType(EvaluationException.class)
			.isThrownBy(() -> this.evaluator.evaluate("#p0", take, new Object[] { List.of(new Object()) }))
			.withMessageContaining("it holds a java.lang.Object");
		assertThat(this.evaluator.evaluate("#p0", take,
				new Object[] { new EnumMap<>(Map.of(TimeUnit.SECONDS, 1, TimeUnit.MILLISECONDS, 2)) }))
			.isEqualTo("{MILLISECONDS=2, SECONDS=1}");
		assertThat(this.evaluator.evaluate("#p0", take, new Object[] { List.of("order-1", "order-2") }))
			.isEqualTo("[order-1, order-2]");
		assertThat(this.evaluator.evaluate("#p0", take, new Object[] { new TreeSet<>(Set.of("b", "a")) }))
			.isEqualTo("[a, b]");
		assertThat(this.evaluator.evaluate("#p0", take, new Object[] { new TreeMap<>(Map.of("a", 1)) }))
			.isEqualTo("{a=1}");
		assertThat(this.evaluator.evaluate("#p0", take,
				new Object[] { EnumSet.of(TimeUnit.SECONDS, TimeUnit.MILLISECONDS) }))
			.isEqualTo("[MILLISECONDS, SECONDS]");
	}

	// A record's text is its components': one that holds an array, even in a record it
	// holds, names that array's identity.
	@Test
	void recordHoldingAValueWhoseTextDiffersShouldFail() {
		Method take = ReflectionUtils.findMethod(Samples.class, "take", Object.class);
		assertThatExceptionOfType(EvaluationException.class).isThrownBy(
				() -> this.evaluator.evaluate("#p0", take, new Object[] { new Signed("order-1", new byte[] { 1 }) }))
			.withMessageContaining("Signed")
			.withMessageContaining("byte[]");
		assertThatExceptionOfType(EvaluationException.class)
			.isThrownBy(() -> this.evaluator.evaluate("#p0", take,
					new Object[] { new Command(new Signed("order-1", new byte[] { 1 }), new Reference("order-1")) }))
			.withMessageContaining("byte[]");
		assertThat(this.evaluator.evaluate("#p0", take,
				new Object[] { new Command(new Signed("order-1", null), new Reference("order-1")) }))
			.isEqualTo("Command[signed=Signed[id=order-1, signature=null], reference=Reference[id=order-1]]");
		// A text the record writes itself is its own.
		assertThat(this.evaluator.evaluate("#p0", take, new Object[] { new Named("order-1", new byte[] { 1 }) }))
			.isEqualTo("order-1");
	}

	record Named(String id, byte[] signature) {

		@Override
		public String toString() {
			return this.id;
		}

	}

	record Reference(String id) {
	}

	record Signed(String id, byte[] signature) {
	}

	record Command(Signed signed, Reference reference) {
	}

	static class Samples {

		void book(String reference, Integer count, String p2) {
		}

		void take(Object value) {
		}

		void shadow(String p1, String root) {
		}

	}

}
