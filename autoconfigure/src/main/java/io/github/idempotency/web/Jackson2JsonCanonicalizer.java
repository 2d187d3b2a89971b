package io.github.idempotency.web;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import java.io.IOException;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * {@link JsonCanonicalizer} on Jackson 2: objects with their keys sorted, no whitespace,
 * numbers exactly as precise as they were sent. Uses its own mapper, so the application's
 * Jackson settings cannot change fingerprints.
 *
 * @since 0.1.0
 */
public final class Jackson2JsonCanonicalizer implements JsonCanonicalizer {

	private final ObjectMapper mapper = JsonMapper.builder()
		.enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
		// Both Jackson generations must write the same bytes: characters beyond the BMP
		// as UTF-8, not escapes.
		.enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
		// Doubles would make distinct amounts such as 0.1 and 0.10000000000000000001 look
		// the same.
		.enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
		.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
		.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
		.build();

	@Override
	public byte[] canonicalize(byte[] json) {
		try {
			return this.mapper.writeValueAsBytes(this.mapper.readValue(json, Object.class));
		}
		catch (IOException ex) {
			throw new IllegalArgumentException("Not a JSON document", ex);
		}
	}

}
