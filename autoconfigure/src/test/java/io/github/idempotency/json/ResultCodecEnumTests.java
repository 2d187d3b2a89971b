package io.github.idempotency.json;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import com.fasterxml.jackson.annotation.JsonCreator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.cfg.EnumFeature;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.core.ResolvableType;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Enum constants are written by name in fingerprints, whatever the application's mapper
 * says about their {@code toString()}: Jackson 3, and so Spring Boot 4, writes them by it
 * by default, Jackson 2 does not, and one fleet runs both lines while it is upgraded.
 * Kept values are written and read as the application's mapper does.
 */
class ResultCodecEnumTests {

	private static final ResolvableType ARGUMENTS = ResolvableType.forClass(Object[].class);

	private static final ResolvableType RECEIPT = ResolvableType.forClass(Receipt.class);

	static List<Supplier<ResultCodec>> codecs() {
		List<Supplier<ResultCodec>> codecs = new ArrayList<>(writingEnumsByToString());
		codecs.add(() -> new Jackson2ResultCodec(new com.fasterxml.jackson.databind.ObjectMapper()));
		return codecs;
	}

	static List<Supplier<ResultCodec>> writingEnumsByToString() {
		return List.of(
				() -> new Jackson2ResultCodec(new com.fasterxml.jackson.databind.ObjectMapper()
					.enable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_ENUMS_USING_TO_STRING)
					.enable(com.fasterxml.jackson.databind.DeserializationFeature.READ_ENUMS_USING_TO_STRING)),
				() -> new Jackson3ResultCodec(JsonMapper.builder().build()),
				() -> new Jackson3ResultCodec(JsonMapper.builder()
					.enable(EnumFeature.WRITE_ENUMS_USING_TO_STRING, EnumFeature.READ_ENUMS_USING_TO_STRING)
					.build()));
	}

	@ParameterizedTest
	@MethodSource("codecs")
	void enumsShouldBeFingerprintedByName(Supplier<ResultCodec> codecs) {
		ResultCodec codec = codecs.get();
		Object[] arguments = { Status.PAID, Map.of(Status.PAID, 1) };
		assertThat(text(codec.writeForFingerprint(arguments, ARGUMENTS))).isEqualTo("[\"PAID\",{\"PAID\":1}]");
	}

	// Kept values are the application mapper's to write and read, as its enums' creators
	// may expect what its settings write.
	@ParameterizedTest
	@MethodSource("writingEnumsByToString")
	void enumsShouldBeKeptAsTheApplicationsMapperWritesThemAndReadBack(Supplier<ResultCodec> codecs) {
		ResultCodec codec = codecs.get();
		byte[] kept = codec.write(new Receipt(Status.PAID, Currency.EUR), RECEIPT);
		assertThat(codec.read(kept, RECEIPT)).isEqualTo(new Receipt(Status.PAID, Currency.EUR));
	}

	private static String text(byte[] json) {
		return new String(json, StandardCharsets.UTF_8);
	}

	enum Status {

		PAID;

		@Override
		public String toString() {
			return "paid";
		}

	}

	// Read through a creator that expects what toString() gives, as an application that
	// writes enums by toString() has them.
	enum Currency {

		EUR;

		@Override
		public String toString() {
			return "eur";
		}

		@JsonCreator
		static Currency of(String code) {
			return Arrays.stream(values())
				.filter((currency) -> currency.toString().equals(code))
				.findFirst()
				.orElse(null);
		}

	}

	record Receipt(Status status, Currency currency) {
	}

}
