package io.github.idempotency.json;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * What the canonical form treats as the same document, through the canonicalizer of each
 * Jackson generation.
 */
class CanonicalJsonTests {

	static Stream<JsonCanonicalizer> canonicalizers() {
		return Stream.of(new Jackson2JsonCanonicalizer(), new Jackson3JsonCanonicalizer());
	}

	@ParameterizedTest
	@MethodSource("canonicalizers")
	void memberOrderShouldNotMatterAtAnyDepth(JsonCanonicalizer canonicalizer) {
		assertThat(canonical(canonicalizer, "[{\"b\":{\"y\":1,\"x\":[{\"q\":2,\"p\":3}]},\"a\":null}]"))
			.isEqualTo(canonical(canonicalizer, "[{\"a\":null,\"b\":{\"x\":[{\"p\":3,\"q\":2}],\"y\":1}}]"));
	}

	// Each object is put in order once, from the bytes as written, so an out-of-order
	// object deep inside others costs a copy of itself, not one per enclosing level.
	@ParameterizedTest
	@MethodSource("canonicalizers")
	void deeplyNestedObjectsShouldBeOrderedAtEveryLevel(JsonCanonicalizer canonicalizer) {
		int depth = 400;
		String value = "[{\"y\":2,\"x\":1},\"" + "v".repeat(10_000) + "\"]";
		String sent = "{\"z\":".repeat(depth) + value + ",\"a\":[{\"d\":0,\"c\":0}]}".repeat(depth);
		String ordered = "{\"a\":[{\"c\":0,\"d\":0}],\"z\":".repeat(depth) + "[{\"x\":1,\"y\":2},\""
				+ "v".repeat(10_000) + "\"]" + "}".repeat(depth);
		assertThat(canonical(canonicalizer, sent)).isEqualTo(canonical(canonicalizer, ordered));
		assertThat(canonical(canonicalizer, sent))
			.isNotEqualTo(canonical(canonicalizer, ordered.replace("\"d\":0", "\"d\":1")));
	}

	@ParameterizedTest
	@MethodSource("canonicalizers")
	void whitespaceShouldNotMatter(JsonCanonicalizer canonicalizer) {
		assertThat(canonical(canonicalizer, "{\"a\":[1,true,\"x\"]}"))
			.isEqualTo(canonical(canonicalizer, "\n{ \"a\" :\t[ 1 , true , \"x\" ] }\r\n"));
	}

	@ParameterizedTest
	@MethodSource("canonicalizers")
	void numbersShouldKeepThePrecisionTheyWereSentWith(JsonCanonicalizer canonicalizer) {
		assertThat(canonical(canonicalizer, "-0")).isEqualTo(canonical(canonicalizer, "0"));
		assertThat(canonical(canonicalizer, "1e3")).isEqualTo(canonical(canonicalizer, "1E+3"));
		assertThat(canonical(canonicalizer, "1.0")).isNotEqualTo(canonical(canonicalizer, "1"))
			.isNotEqualTo(canonical(canonicalizer, "1.00"));
		assertThat(canonical(canonicalizer, "12345678901234567890123"))
			.isNotEqualTo(canonical(canonicalizer, "12345678901234567890124"));
	}

	@ParameterizedTest
	@MethodSource("canonicalizers")
	void stringContentShouldNeverPassForStructure(JsonCanonicalizer canonicalizer) {
		assertThat(canonical(canonicalizer, "{\"a\":\"b\",\"c\":\"d\"}"))
			.isNotEqualTo(canonical(canonicalizer, "{\"a\":\"b\\\",\\\"c\\\":\\\"d\"}"));
		assertThat(canonical(canonicalizer, "[\"1\"]")).isNotEqualTo(canonical(canonicalizer, "[1]"));
		assertThat(canonical(canonicalizer, "[\"true\"]")).isNotEqualTo(canonical(canonicalizer, "[true]"));
		assertThat(canonical(canonicalizer, "[[],[]]")).isNotEqualTo(canonical(canonicalizer, "[[[]]]"));
	}

	@ParameterizedTest
	@MethodSource("canonicalizers")
	void escapesShouldNotMatter(JsonCanonicalizer canonicalizer) {
		assertThat(canonical(canonicalizer, "\"caf\\u00e9 \\ud83d\\ude00\""))
			.isEqualTo(canonical(canonicalizer, "\"caf\u00e9 \uD83D\uDE00\""));
	}

	@ParameterizedTest
	@MethodSource("canonicalizers")
	void loneSurrogatesShouldNotCollideWithOtherStrings(JsonCanonicalizer canonicalizer) {
		assertThat(canonical(canonicalizer, "{\"note\":\"\\ud800\"}"))
			.isNotEqualTo(canonical(canonicalizer, "{\"note\":\"?\"}"))
			.isNotEqualTo(canonical(canonicalizer, "{\"note\":\"\\udc00\"}"))
			.isNotEqualTo(canonical(canonicalizer, "{\"note\":\"\\ufffd\"}"));
		assertThat(canonical(canonicalizer, "[\"\\udbff\\udfff\"]"))
			.isNotEqualTo(canonical(canonicalizer, "[\"\\udfff\\udbff\"]"));
	}

	@ParameterizedTest
	@MethodSource("canonicalizers")
	void duplicateMembersShouldBeRefusedAtAnyDepth(JsonCanonicalizer canonicalizer) {
		assertThatIllegalArgumentException().isThrownBy(() -> canonical(canonicalizer, "[{\"a\":{\"x\":1,\"x\":1}}]"));
		assertThatIllegalArgumentException().isThrownBy(() -> canonical(canonicalizer, "{\"b\":1,\"a\":2,\"b\":1}"));
	}

	private static String canonical(JsonCanonicalizer canonicalizer, String json) {
		return new String(canonicalizer.canonicalize(json.getBytes(StandardCharsets.UTF_8)),
				StandardCharsets.ISO_8859_1);
	}

}
