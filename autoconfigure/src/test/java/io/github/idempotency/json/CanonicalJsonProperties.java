package io.github.idempotency.json;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The canonical form of JSON, checked on generated documents: two spellings of one value
 * get the same form, and two different values never do. Values include odd strings (lone
 * surrogates, control characters, escapes, characters outside the BMP) and numbers of any
 * size and precision. Both Jackson generations are checked against each other too.
 */
class CanonicalJsonProperties {

	private static final JsonCanonicalizer JACKSON_2 = new Jackson2JsonCanonicalizer();

	private static final JsonCanonicalizer JACKSON_3 = new Jackson3JsonCanonicalizer();

	@Property(tries = 500)
	void spellingsOfOneValueShouldHaveOneCanonicalForm(@ForAll("values") Object value, @ForAll long seed) {
		String compact = write(value, false, null);
		String spaced = write(value, true, new Random(seed));

		byte[] canonical = canonical(JACKSON_2, compact);
		assertThat(canonical(JACKSON_2, spaced)).isEqualTo(canonical);
		assertThat(canonical(JACKSON_3, compact)).isEqualTo(canonical);
		assertThat(canonical(JACKSON_3, spaced)).isEqualTo(canonical);
	}

	@Property(tries = 500)
	void differentValuesShouldHaveDifferentCanonicalForms(@ForAll("values") Object value, @ForAll long seed) {
		Object changed = change(value, new Random(seed));

		assertThat(changed).isNotEqualTo(value);
		assertThat(canonical(JACKSON_2, write(changed, false, null)))
			.isNotEqualTo(canonical(JACKSON_2, write(value, false, null)));
		assertThat(canonical(JACKSON_3, write(changed, true, new Random(seed))))
			.isNotEqualTo(canonical(JACKSON_3, write(value, false, null)));
	}

	@Provide
	Arbitrary<Object> values() {
		return Arbitraries.recursive(this::leaf, this::containing, 0, 3);
	}

	private Arbitrary<Object> containing(Arbitrary<Object> inner) {
		return Arbitraries.oneOf(inner, inner.list().ofMaxSize(4).map(ArrayList::new),
				Arbitraries.maps(strings().map(CanonicalJsonProperties::withoutLoneSurrogates), inner)
					.ofMaxSize(4)
					.map(LinkedHashMap::new));
	}

	private Arbitrary<Object> leaf() {
		return Arbitraries.oneOf(strings().map(Object.class::cast), integers(), decimals(),
				Arbitraries.of(Boolean.TRUE, Boolean.FALSE, Null.NULL));
	}

	// Jackson 3 refuses a member name with a surrogate missing its pair (Jackson 2 takes
	// it); such a body is compared byte for byte, so names here keep their pairs.
	private static String withoutLoneSurrogates(String text) {
		StringBuilder kept = new StringBuilder();
		text.codePoints().forEach((c) -> kept.appendCodePoint((c >= 0xD800 && c <= 0xDFFF) ? 'x' : c));
		return kept.toString();
	}

	// Characters chosen to hit every path of the encoders: ASCII, characters JSON must
	// escape, two- and three-byte UTF-8, surrogate halves alone or paired, '?' and the
	// replacement character that a lossy encoding would produce.
	private static Arbitrary<String> strings() {
		Arbitrary<Character> odd = Arbitraries.of('a', 'Z', '0', ' ', '?', '"', '\\', '/', '\n', '\t', '\u0000',
				'\u001f', '\u007f', '\u00e9', '\u20ac', '\ufffd', '\ud800', '\udbff', '\udc00', '\udfff');
		Arbitrary<Character> any = Arbitraries.chars();
		return Arbitraries.frequencyOf(Tuple.of(3, odd), Tuple.of(1, any)).list().ofMaxSize(8).map((chars) -> {
			StringBuilder text = new StringBuilder();
			chars.forEach(text::append);
			return text.toString();
		});
	}

	private static Arbitrary<Object> integers() {
		return Arbitraries.bigIntegers()
			.between(new BigInteger("-1" + "0".repeat(30)), new BigInteger("1" + "0".repeat(30)))
			.map(Object.class::cast);
	}

	// Decimals keep their scale: 1.0 and 1.00 are different values.
	private static Arbitrary<Object> decimals() {
		return Arbitraries.bigIntegers()
			.between(BigInteger.valueOf(-1_000_000_000L), BigInteger.valueOf(1_000_000_000L))
			.flatMap((unscaled) -> Arbitraries.integers()
				.between(1, 30)
				.map((scale) -> (Object) new BigDecimal(unscaled, scale)));
	}

	private static byte[] canonical(JsonCanonicalizer canonicalizer, String json) {
		return canonicalizer.canonicalize(json.getBytes(StandardCharsets.UTF_8));
	}

	/**
	 * Writes a value as JSON: compact, members in their order, only the escapes JSON
	 * requires; or, with a random source, with whitespace, members shuffled, every
	 * non-ASCII character escaped and decimals in another notation.
	 */
	private static String write(Object value, boolean varied, Random random) {
		StringBuilder json = new StringBuilder();
		write(json, value, varied, random);
		return json.toString();
	}

	private static void write(StringBuilder json, Object value, boolean varied, Random random) {
		String space = varied ? " \n\t".substring(0, random.nextInt(4)) : "";
		json.append(space);
		if (value instanceof String text) {
			string(json, text, varied);
		}
		else if (value instanceof BigInteger integer) {
			json.append(integer);
		}
		else if (value instanceof BigDecimal decimal) {
			json.append(varied ? decimal.toString().replace('E', 'e') : decimal.toPlainString());
		}
		else if (value instanceof Boolean || value == Null.NULL) {
			json.append((value == Null.NULL) ? "null" : value);
		}
		else if (value instanceof List<?> list) {
			json.append('[');
			for (int i = 0; i < list.size(); i++) {
				json.append((i > 0) ? "," : "");
				write(json, list.get(i), varied, random);
			}
			json.append(space).append(']');
		}
		else {
			List<Map.Entry<?, ?>> members = new ArrayList<>(((Map<?, ?>) value).entrySet());
			if (varied) {
				Collections.shuffle(members, random);
			}
			json.append('{');
			for (int i = 0; i < members.size(); i++) {
				json.append((i > 0) ? "," : "").append(space);
				string(json, (String) members.get(i).getKey(), varied);
				json.append(space).append(':');
				write(json, members.get(i).getValue(), varied, random);
			}
			json.append(space).append('}');
		}
	}

	private static void string(StringBuilder json, String text, boolean escapeAll) {
		json.append('"');
		for (int i = 0; i < text.length(); i++) {
			char c = text.charAt(i);
			if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
				char low = text.charAt(++i);
				json.append(escapeAll ? escape(c) + escape(low) : "" + c + low);
			}
			else if (c == '"' || c == '\\') {
				json.append('\\').append(c);
			}
			// A surrogate without its pair cannot be written as UTF-8, only escaped.
			else if (c < 0x20 || Character.isSurrogate(c) || (escapeAll && c > 0x7e)) {
				json.append(escape(c));
			}
			else {
				json.append(c);
			}
		}
		json.append('"');
	}

	private static String escape(char c) {
		return String.format("\\u%04x", (int) c);
	}

	/**
	 * A value that differs from the given one in one place, by one small step: a
	 * character, a digit, the scale of a decimal, a type, a member name, an element.
	 */
	private static Object change(Object value, Random random) {
		if (value instanceof String text) {
			if (text.isEmpty() || random.nextBoolean()) {
				return text + (char) (random.nextBoolean() ? '?' : '\ud800');
			}
			int at = random.nextInt(text.length());
			char replacement = (text.charAt(at) == '?') ? '\udc00' : '?';
			return text.substring(0, at) + replacement + text.substring(at + 1);
		}
		if (value instanceof BigInteger integer) {
			return random.nextBoolean() ? integer.add(BigInteger.ONE) : new BigDecimal(integer, 1);
		}
		if (value instanceof BigDecimal decimal) {
			return random.nextBoolean() ? decimal.setScale(decimal.scale() + 1) : decimal.toString();
		}
		if (value instanceof Boolean bool) {
			return !bool;
		}
		if (value == Null.NULL) {
			return "null";
		}
		if (value instanceof List<?> list) {
			List<Object> changed = new ArrayList<>(list);
			if (changed.isEmpty() || random.nextInt(3) == 0) {
				changed.add(Null.NULL);
			}
			else {
				int at = random.nextInt(changed.size());
				changed.set(at, change(changed.get(at), random));
			}
			return changed;
		}
		Map<String, Object> changed = new LinkedHashMap<>();
		((Map<?, ?>) value).forEach((name, member) -> changed.put((String) name, member));
		if (changed.isEmpty() || random.nextInt(3) == 0) {
			String name = "?";
			while (changed.containsKey(name)) {
				name += "?";
			}
			changed.put(name, Null.NULL);
		}
		else {
			String name = new ArrayList<>(changed.keySet()).get(random.nextInt(changed.size()));
			changed.put(name, change(changed.get(name), random));
		}
		return changed;
	}

	/**
	 * JSON's null, which maps and lists of this test hold as a value.
	 */
	private enum Null {

		NULL

	}

}
