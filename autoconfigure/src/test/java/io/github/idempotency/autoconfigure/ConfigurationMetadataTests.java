package io.github.idempotency.autoconfigure;

import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import org.springframework.core.io.ClassPathResource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * IDEs complete {@code idempotency.*} from the metadata the configuration processor
 * generates; every property needs a description and its default there.
 */
class ConfigurationMetadataTests {

	// Defaults computed from other properties or from the application's beans, which the
	// description states instead.
	private static final Set<String> DERIVED_DEFAULTS = Set.of("idempotency.lock-renewal.interval",
			"idempotency.store");

	@Test
	void everyPropertyShouldHaveDescriptionAndDefault() throws Exception {
		Map<String, JsonNode> properties = new HashMap<>();
		try (InputStream input = new ClassPathResource("META-INF/spring-configuration-metadata.json")
			.getInputStream()) {
			new ObjectMapper().readTree(input)
				.get("properties")
				.forEach((p) -> properties.put(p.get("name").asText(), p));
		}
		assertThat(properties).containsKeys("idempotency.enabled", "idempotency.header-name", "idempotency.ttl",
				"idempotency.lock-timeout", "idempotency.max-key-length", "idempotency.key-prefix",
				"idempotency.on-store-failure", "idempotency.replayed-headers", "idempotency.wait-timeout");
		assertThat(properties.values()).allSatisfy((property) -> {
			String name = property.get("name").asText();
			assertThat(property.path("description").asText()).as(name).isNotBlank();
			assertThat(property.has("defaultValue") || DERIVED_DEFAULTS.contains(name)).as(name).isTrue();
		});
	}

}
