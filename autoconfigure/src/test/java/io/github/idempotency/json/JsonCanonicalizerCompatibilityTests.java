package io.github.idempotency.json;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Jackson 2 (Spring Boot 3) and Jackson 3 (Spring Boot 4) must canonicalize every body to
 * the same bytes, or a fleet upgrading from one to the other would answer honest retries
 * with 422.
 */
class JsonCanonicalizerCompatibilityTests {

	private final JsonCanonicalizer jackson2 = new Jackson2JsonCanonicalizer();

	private final JsonCanonicalizer jackson3 = new Jackson3JsonCanonicalizer();

	@ParameterizedTest
	@ValueSource(strings = { "{\"b\":1,\"a\":{\"d\":[3,1,{\"z\":null,\"y\":true}],\"c\":\"x\"}}",
			"{\"amount\":0.10000000000000000001,\"big\":123456789012345678901234567890,\"e\":1e3,\"neg\":-0.0}",
			"{\"text\":\"caf\\u00e9 \u20ac \\\"q\\\" \\\\ \\n \\t \\u0001\",\"emoji\":\"\uD83D\uDE00\"}",
			"[1, 2.50, \"a\", false, {\"k\": []}]", "\"just a string\"", "42", "  { }  " })
	void bothGenerationsShouldGiveTheSameBytes(String json) {
		byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
		assertThat(new String(this.jackson3.canonicalize(bytes), StandardCharsets.UTF_8))
			.isEqualTo(new String(this.jackson2.canonicalize(bytes), StandardCharsets.UTF_8));
	}

	@ParameterizedTest
	@ValueSource(strings = { "{\"a\":1,\"a\":2}", "{\"a\":", "{} {}", "nope" })
	void bothGenerationsShouldRejectWhatIsNotOneDocument(String json) {
		byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
		assertThatIllegalArgumentException().isThrownBy(() -> this.jackson2.canonicalize(bytes));
		assertThatIllegalArgumentException().isThrownBy(() -> this.jackson3.canonicalize(bytes));
	}

}
