package io.github.idempotency.json;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.jsontype.BasicPolymorphicTypeValidator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.DefaultTyping;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.core.ResolvableType;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fingerprints write a set's elements in the order of their JSON, whatever order the set
 * iterates in, on both Jackson generations, and with what the application's mapper and
 * the set's property say about writing it.
 */
class FingerprintSetOrderTests {

	private static final ResolvableType ARGUMENTS = ResolvableType.forClass(Object[].class);

	static List<Function<Mapper, ResultCodec>> codecs() {
		return List.of(Jackson2Codecs::codec, Jackson3Codecs::codec);
	}

	@ParameterizedTest
	@MethodSource("codecs")
	void equalSetsShouldBeWrittenAlikeWhateverTheirOrder(Function<Mapper, ResultCodec> codecs) {
		ResultCodec codec = codecs.apply(Mapper.PLAIN);
		assertThat(fingerprint(codec, ordered("b", "a", "c"), new Order(ordered("y", "x"))))
			.isEqualTo(fingerprint(codec, ordered("c", "b", "a"), new Order(ordered("x", "y"))))
			.isNotEqualTo(fingerprint(codec, ordered("a", "b"), new Order(ordered("x", "y"))));
		// Maps inside an element are written in key order before the elements are
		// sorted: in the order they iterate in, {"k":1,"j":2} would come after
		// {"j":3}, and {"j":2,"k":1} before it.
		assertThat(fingerprint(codec, ordered(map("k", 1, "j", 2), map("j", 3))))
			.isEqualTo(fingerprint(codec, ordered(map("j", 3), map("j", 2, "k", 1))));
		// What the application's mapper writes is unchanged.
		assertThat(text(codec.write(new Object[] { ordered("b", "a") }, ARGUMENTS))).isEqualTo("[[\"b\",\"a\"]]");
	}

	// A mapper that writes type information for every value declared as an Object, as
	// each argument is: the set is written with it, sorted.
	@ParameterizedTest
	@MethodSource("codecs")
	void setsWithTypeInformationShouldBeWrittenAlikeWhateverTheirOrder(Function<Mapper, ResultCodec> codecs) {
		ResultCodec codec = codecs.apply(Mapper.TYPED);
		String written = fingerprint(codec, ordered("b", "a"));
		assertThat(written).contains("java.util.LinkedHashSet").contains("[\"a\",\"b\"]");
		assertThat(fingerprint(codec, ordered("a", "b"))).isEqualTo(written);
	}

	// The set's property says how its elements are written: here, without their link
	// back to the order, which would otherwise never end.
	@ParameterizedTest
	@MethodSource("codecs")
	void whatTheSetsPropertySaysShouldHoldForItsElements(Function<Mapper, ResultCodec> codecs) {
		ResultCodec codec = codecs.apply(Mapper.PLAIN);
		Basket first = new Basket();
		first.items = ordered(new Item("pen", first), new Item("ink", first));
		Basket second = new Basket();
		second.items = ordered(new Item("ink", second), new Item("pen", second));
		assertThat(fingerprint(codec, first)).isEqualTo(fingerprint(codec, second))
			.isEqualTo("[{\"items\":[{\"name\":\"ink\"},{\"name\":\"pen\"}]}]");
	}

	// A set of one element is written as Jackson writes it, here unwrapped; its element's
	// own array keeps its order, and the other sets are still sorted.
	@ParameterizedTest
	@MethodSource("codecs")
	void setOfOneElementShouldBeWrittenAsJacksonWritesIt(Function<Mapper, ResultCodec> codecs) {
		ResultCodec codec = codecs.apply(Mapper.UNWRAPPING);
		assertThat(fingerprint(codec, Set.of(List.of("b", "a")), ordered("d", "c")))
			.isEqualTo("[[\"b\",\"a\"],[\"c\",\"d\"]]");
		assertThat(fingerprint(codec, Set.of(List.of("a", "b")), ordered("c", "d")))
			.isEqualTo("[[\"a\",\"b\"],[\"c\",\"d\"]]");
	}

	// Map keys that cannot be put in order are left in the order the map gives them.
	@ParameterizedTest
	@MethodSource("codecs")
	void mapsWhoseKeysHaveNoOrderShouldStillBeWritten(Function<Mapper, ResultCodec> codecs) {
		ResultCodec codec = codecs.apply(Mapper.PLAIN);
		Map<Point, Integer> map = new LinkedHashMap<>();
		map.put(new Point(2), 2);
		map.put(new Point(1), 1);
		assertThat(fingerprint(codec, map)).isEqualTo("[{\"Point[x=2]\":2,\"Point[x=1]\":1}]");
	}

	record Point(int x) {
	}

	private static String fingerprint(ResultCodec codec, Object... arguments) {
		return text(codec.writeForFingerprint(arguments, ARGUMENTS));
	}

	private static String text(byte[] json) {
		return new String(json, StandardCharsets.UTF_8);
	}

	private static Map<String, Integer> map(Object... entries) {
		Map<String, Integer> map = new LinkedHashMap<>();
		for (int i = 0; i < entries.length; i += 2) {
			map.put((String) entries[i], (Integer) entries[i + 1]);
		}
		return map;
	}

	@SafeVarargs
	private static <T> Set<T> ordered(T... elements) {
		return new LinkedHashSet<>(List.of(elements));
	}

	record Order(Set<String> tags) {
	}

	static class Basket {

		@JsonIgnoreProperties("basket")
		public Set<Item> items;

	}

	record Item(String name, Basket basket) {
	}

	/**
	 * The application's mapper: as made, with type information for values declared as
	 * Object, or writing an array of one element as that element.
	 */
	enum Mapper {

		PLAIN, TYPED, UNWRAPPING

	}

	private static final class Jackson2Codecs {

		static ResultCodec codec(Mapper kind) {
			com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper();
			if (kind == Mapper.UNWRAPPING) {
				mapper.enable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_SINGLE_ELEM_ARRAYS_UNWRAPPED);
			}
			if (kind == Mapper.TYPED) {
				mapper.activateDefaultTyping(
						BasicPolymorphicTypeValidator.builder().allowIfBaseType(Object.class).build(),
						com.fasterxml.jackson.databind.ObjectMapper.DefaultTyping.NON_FINAL);
			}
			return new Jackson2ResultCodec(mapper);
		}

	}

	private static final class Jackson3Codecs {

		static ResultCodec codec(Mapper kind) {
			JsonMapper.Builder builder = JsonMapper.builder();
			if (kind == Mapper.UNWRAPPING) {
				builder.enable(tools.jackson.databind.SerializationFeature.WRITE_SINGLE_ELEM_ARRAYS_UNWRAPPED);
			}
			if (kind == Mapper.TYPED) {
				builder.activateDefaultTyping(tools.jackson.databind.jsontype.BasicPolymorphicTypeValidator.builder()
					.allowIfBaseType(Object.class)
					.build(), DefaultTyping.NON_FINAL);
			}
			return new Jackson3ResultCodec(builder.build());
		}

	}

}
