package io.github.idempotency.json;

import java.math.BigDecimal;

import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.util.JsonRecyclerPools;

/**
 * {@link JsonCanonicalizer} on Jackson 3's streaming parser, for applications on Spring
 * Boot 4: the same canonical form as {@link Jackson2JsonCanonicalizer}, so that a fleet
 * running both generations computes the same fingerprints. Uses its own parser factory,
 * so the application's Jackson settings cannot change fingerprints.
 *
 * @since 0.1.0
 */
public final class Jackson3JsonCanonicalizer implements JsonCanonicalizer {

	// Buffers recycled per thread: taking and returning them through Jackson 3's default
	// pool, a concurrent deque, stood out in a profile of the method path's replay.
	private final JsonFactory factory = JsonFactory.builder().recyclerPool(JsonRecyclerPools.threadLocalPool()).build();

	@Override
	public byte[] canonicalize(byte[] json) {
		try (JsonParser parser = this.factory.createParser(json)) {
			return CanonicalJson.encode(new ParserTokens(parser), json.length);
		}
		catch (JacksonException ex) {
			throw new IllegalArgumentException("Not a JSON document", ex);
		}
	}

	private record ParserTokens(JsonParser parser) implements CanonicalJson.Tokens<JacksonException> {

		@Override
		public CanonicalJson.@Nullable Token next() {
			JsonToken token = this.parser.nextToken();
			if (token == null) {
				return null;
			}
			return switch (token) {
				case START_OBJECT -> CanonicalJson.Token.OBJECT_START;
				case END_OBJECT -> CanonicalJson.Token.OBJECT_END;
				case START_ARRAY -> CanonicalJson.Token.ARRAY_START;
				case END_ARRAY -> CanonicalJson.Token.ARRAY_END;
				case PROPERTY_NAME -> CanonicalJson.Token.NAME;
				case VALUE_STRING -> CanonicalJson.Token.STRING;
				case VALUE_NUMBER_INT -> CanonicalJson.Token.INTEGER;
				case VALUE_NUMBER_FLOAT -> CanonicalJson.Token.DECIMAL;
				case VALUE_TRUE -> CanonicalJson.Token.TRUE;
				case VALUE_FALSE -> CanonicalJson.Token.FALSE;
				case VALUE_NULL -> CanonicalJson.Token.NULL;
				default -> throw new IllegalArgumentException("Unexpected " + token + " in JSON document");
			};
		}

		@Override
		public String text() {
			return this.parser.getString();
		}

		@Override
		public BigDecimal decimal() {
			return this.parser.getDecimalValue();
		}

	}

}
