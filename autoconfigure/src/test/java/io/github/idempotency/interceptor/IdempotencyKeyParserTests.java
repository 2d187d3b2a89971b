package io.github.idempotency.interceptor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class IdempotencyKeyParserTests {

	private final IdempotencyKeyParser parser = new IdempotencyKeyParser(16);

	@ParameterizedTest
	@CsvSource(delimiterString = " => ", quoteCharacter = 0, value = { "abc => abc", "8e03978e-40d5 => 8e03978e-40d5",
			"\"abc\" => abc", "\"a b\" => a b", "\"a\\\"b\" => a\"b", "\"a\\\\b\" => a\\b", "\"abc\";v=1 => abc",
			"\"abc\"; a;b=?1;c=\"x\\\"y\";d=tok/en;e=-1.5;f=:aGk=:;g=@1;h=%\"%c3%a9\" => abc",
			"\"abc\";a=%\"a\\b\";b=1.5;c => abc", "'a'{x} => 'a'{x}", "\"0123456789abcdef\" => 0123456789abcdef" })
	void parseWhenValidShouldReturnKey(String header, String key) {
		assertThat(this.parser.parse(header)).isEqualTo(key);
	}

	@ParameterizedTest
	@ValueSource(strings = { "", "\"\"", "a b", "a,b", "a\tb", "\"a\tb\"", "\"abc", "\"abc\"x", "\"abc\", \"def\"",
			"\"a\\b\"", "caf\u00e9", "\"caf\u00e9\"", "0123456789abcdefg", "\"0123456789abcdefg\"", "\"abc\\",
			"\"   \"", "\"abc\";;", "\"abc\";=", "\"abc\";\"x\"", "\"abc\";A=1", "\"abc\";a=\"x", "\"abc\" ;a",
			"\"abc\";a=1 ;b", "\"abc\";a=1 x", "\"abc\";a=1234567890123.5", "\"abc\";a=1.2345", "\"abc\";a=%\"%C3\"",
			"\"abc\";a=?2", "\"abc\";a=@1.5", "\"abc\";a=:ab!:", "\"abc\";a=" })
	void parseWhenInvalidShouldReject(String header) {
		assertThatExceptionOfType(IdempotencyKeyParser.InvalidKeyException.class)
			.isThrownBy(() -> this.parser.parse(header));
	}

	// Within a header size containers accept, as many parameters as fit, or one long
	// value: read in one pass, never a StackOverflowError.
	@Test
	void parseWhenParametersFillTheHeaderShouldStillAnswer() {
		assertThat(this.parser.parse("\"abc\"" + ";a=1".repeat(2000))).isEqualTo("abc");
		assertThat(this.parser.parse("\"abc\";a=\"" + "x\\\"".repeat(3000) + "\"")).isEqualTo("abc");
		assertThatExceptionOfType(IdempotencyKeyParser.InvalidKeyException.class)
			.isThrownBy(() -> this.parser.parse("\"abc\"" + ";a=1".repeat(2000) + ";;"));
	}

	@ParameterizedTest
	@ValueSource(strings = { "", " ", "   ", "\u3000", "a\nb", "a\u0000b", "0123456789abcdefg", "A\ud800", "\udc00A",
			"\ud800\ud800" })
	void checkWhenKeyFromExpressionIsUnusableShouldReject(String key) {
		assertThatExceptionOfType(IdempotencyKeyParser.InvalidKeyException.class)
			.isThrownBy(() -> this.parser.check(key));
	}

	@ParameterizedTest
	@ValueSource(strings = { "order 42", "caf\u00e9", "x", "\ud83d\ude00" })
	void checkWhenKeyFromExpressionIsPrintableShouldAccept(String key) {
		assertThat(this.parser.check(key)).isEqualTo(key);
	}

}
