package io.github.idempotency.web;

import tools.jackson.core.json.JsonWriteFeature;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@link JsonCanonicalizer} on Jackson 3, for applications on Spring Boot 4: the same
 * canonical form as {@link Jackson2JsonCanonicalizer}, so that a fleet running both
 * generations computes the same fingerprints. Uses its own mapper, so the application's
 * Jackson settings cannot change fingerprints.
 *
 * @since 0.1.0
 */
public final class Jackson3JsonCanonicalizer implements JsonCanonicalizer {

	private final ObjectMapper mapper = JsonMapper.builder()
		.enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
		// Both Jackson generations must write the same bytes: characters beyond the BMP
		// as UTF-8, not escapes.
		.enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
		// Doubles would make distinct amounts such as 0.1 and 0.10000000000000000001 look
		// the same.
		.enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
		.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
		.enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
		.build();

	@Override
	public byte[] canonicalize(byte[] json) {
		try {
			return this.mapper.writeValueAsBytes(this.mapper.readValue(json, Object.class));
		}
		catch (JacksonException ex) {
			throw new IllegalArgumentException("Not a JSON document", ex);
		}
	}

}
