package io.github.idempotency.json;

import java.io.IOException;
import java.math.BigDecimal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import org.jspecify.annotations.Nullable;

/**
 * {@link JsonCanonicalizer} on Jackson 2's streaming parser, for Spring Boot 3
 * applications: objects with their members sorted by name, no whitespace, numbers exactly
 * as precise as they were sent. Uses its own parser factory, so the application's Jackson
 * settings cannot change fingerprints.
 *
 * @since 0.1.0
 */
public final class Jackson2JsonCanonicalizer implements JsonCanonicalizer {

	private final JsonFactory factory = new JsonFactory();

	@Override
	public byte[] canonicalize(byte[] json) {
		try (JsonParser parser = this.factory.createParser(json)) {
			return CanonicalJson.encode(new ParserTokens(parser), json.length);
		}
		catch (IOException ex) {
			throw new IllegalArgumentException("Not a JSON document", ex);
		}
	}

	private record ParserTokens(JsonParser parser) implements CanonicalJson.Tokens<IOException> {

		@Override
		public CanonicalJson.@Nullable Token next() throws IOException {
			JsonToken token = this.parser.nextToken();
			if (token == null) {
				return null;
			}
			return switch (token) {
				case START_OBJECT -> CanonicalJson.Token.OBJECT_START;
				case END_OBJECT -> CanonicalJson.Token.OBJECT_END;
				case START_ARRAY -> CanonicalJson.Token.ARRAY_START;
				case END_ARRAY -> CanonicalJson.Token.ARRAY_END;
				case FIELD_NAME -> CanonicalJson.Token.NAME;
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
		public String text() throws IOException {
			return this.parser.getText();
		}

		@Override
		public BigDecimal decimal() throws IOException {
			return this.parser.getDecimalValue();
		}

	}

}
