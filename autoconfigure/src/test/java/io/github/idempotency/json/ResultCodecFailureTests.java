package io.github.idempotency.json;

import java.nio.charset.StandardCharsets;
import java.util.List;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.core.ResolvableType;

import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * What a codec cannot write or read is an {@link IllegalArgumentException}, as
 * {@link ResultCodec} promises, also where the application's mapper lets the exceptions
 * of the application's own types through unwrapped: the method path keeps a value it
 * cannot write as one not kept, and tells a record it cannot read, rather than leave a
 * key held or a replay failing with an exception of no meaning to its caller.
 */
class ResultCodecFailureTests {

	private static final ResolvableType GUARDED = ResolvableType.forClass(Guarded.class);

	static List<ResultCodec> notWrappingExceptions() {
		return List.of(
				new Jackson2ResultCodec(new ObjectMapper().disable(SerializationFeature.WRAP_EXCEPTIONS)
					.disable(DeserializationFeature.WRAP_EXCEPTIONS)),
				new Jackson3ResultCodec(JsonMapper.builder()
					.disable(tools.jackson.databind.SerializationFeature.WRAP_EXCEPTIONS)
					.disable(tools.jackson.databind.DeserializationFeature.WRAP_EXCEPTIONS)
					.build()));
	}

	@ParameterizedTest
	@MethodSource("notWrappingExceptions")
	void valueWhoseGetterThrowsShouldNotBeWritten(ResultCodec codec) {
		assertThatIllegalArgumentException().isThrownBy(() -> codec.write(Guarded.negative(), GUARDED));
	}

	@ParameterizedTest
	@MethodSource("notWrappingExceptions")
	void valueWhoseSetterThrowsShouldNotBeRead(ResultCodec codec) {
		byte[] json = "{\"amount\":-1}".getBytes(StandardCharsets.UTF_8);
		assertThatIllegalArgumentException().isThrownBy(() -> codec.read(json, GUARDED));
	}

	// Neither Jackson wraps what a deserializer of the application's throws at the top
	// level, whatever the mapper's settings.
	@ParameterizedTest
	@MethodSource("codecs")
	void valueWhoseDeserializerThrowsShouldNotBeRead(ResultCodec codec) {
		byte[] json = "{\"amount\":1}".getBytes(StandardCharsets.UTF_8);
		assertThatIllegalArgumentException()
			.isThrownBy(() -> codec.read(json, ResolvableType.forClass(SelfRead.class)));
	}

	static List<ResultCodec> codecs() {
		return List.of(new Jackson2ResultCodec(new ObjectMapper()),
				new Jackson3ResultCodec(JsonMapper.builder().build()));
	}

	@com.fasterxml.jackson.databind.annotation.JsonDeserialize(using = Refusing2.class)
	@tools.jackson.databind.annotation.JsonDeserialize(using = Refusing3.class)
	public static class SelfRead {

	}

	static class Refusing2 extends com.fasterxml.jackson.databind.JsonDeserializer<SelfRead> {

		@Override
		public SelfRead deserialize(com.fasterxml.jackson.core.JsonParser parser,
				com.fasterxml.jackson.databind.DeserializationContext context) {
			throw new IllegalStateException("not this version's");
		}

	}

	static class Refusing3 extends tools.jackson.databind.ValueDeserializer<SelfRead> {

		@Override
		public SelfRead deserialize(tools.jackson.core.JsonParser parser,
				tools.jackson.databind.DeserializationContext context) {
			throw new IllegalStateException("not this version's");
		}

	}

	public static class Guarded {

		private long amount;

		static Guarded negative() {
			Guarded guarded = new Guarded();
			guarded.amount = -1;
			return guarded;
		}

		public long getAmount() {
			if (this.amount < 0) {
				throw new IllegalStateException("a negative amount");
			}
			return this.amount;
		}

		public void setAmount(long amount) {
			if (amount < 0) {
				throw new IllegalStateException("a negative amount");
			}
			this.amount = amount;
		}

	}

}
