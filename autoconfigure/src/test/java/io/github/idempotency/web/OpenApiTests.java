package io.github.idempotency.web;

import java.net.http.HttpResponse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.idempotency.web.app.TestApplication;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenAPI description springdoc generates documents the key header and the starter's
 * problem responses on idempotent operations, and on them only.
 */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=openapi-test", "idempotency.max-key-length=64",
				"idempotency.replayed-header-name=X-Replayed" })
class OpenApiTests extends AbstractWebTests {

	private JsonNode paths;

	@BeforeEach
	void readApiDocs() throws Exception {
		HttpResponse<byte[]> docs = new TestHttp(this.port).get("/v3/api-docs").send();
		assertThat(docs.statusCode()).isEqualTo(200);
		this.paths = new ObjectMapper().readTree(docs.body()).get("paths");
	}

	@Test
	void idempotentOperationShouldDocumentRequiredKeyHeader() {
		JsonNode header = parameter("/orders", "post", "Idempotency-Key");
		assertThat(header).isNotNull();
		assertThat(header.get("in").asText()).isEqualTo("header");
		assertThat(header.get("required").asBoolean()).isTrue();
		assertThat(header.at("/schema/maxLength").asInt()).isEqualTo(64);
		assertThat(header.get("description").asText()).contains("marked X-Replayed: true");
	}

	@Test
	void idempotentOperationShouldDocumentProblemResponses() {
		JsonNode responses = this.paths.at("/~1orders/post/responses");
		assertThat(responses.has("400")).isTrue();
		assertThat(responses.at("/409/content").has("application/problem+json")).isTrue();
		assertThat(responses.at("/422/content/application~1problem+json/schema/properties/code/example").asText())
			.isEqualTo("idempotency-key-mismatch");
	}

	@Test
	void optionalKeyAndCustomHeaderShouldBeDocumentedAsDeclared() {
		assertThat(parameter("/orders/optional", "post", "Idempotency-Key").get("required").asBoolean()).isFalse();
		assertThat(parameter("/orders/custom-header", "post", "X-Request-Id")).isNotNull();
		assertThat(parameter("/orders/custom-header", "post", "Idempotency-Key")).isNull();
	}

	// Springdoc documents a @RequestHeader itself: a second parameter of the same name
	// and location would make the description invalid.
	@Test
	void keyHeaderTheHandlerReadsItselfShouldBeDocumentedOnce() {
		int documented = 0;
		for (JsonNode parameter : this.paths.at("/~1orders~1logged-key/post/parameters")) {
			if (parameter.get("name").asText().equalsIgnoreCase("Idempotency-Key")) {
				documented++;
			}
		}
		assertThat(documented).isOne();
		assertThat(this.paths.at("/~1orders~1logged-key/post/responses").has("409")).isTrue();
	}

	@Test
	void keyFromBodyShouldBeNotedWithoutHeader() {
		assertThat(parameter("/orders/body-key", "post", "Idempotency-Key")).isNull();
		assertThat(this.paths.at("/~1orders~1body-key/post/description").asText()).contains("Idempotent");
	}

	@Test
	void operationsShouldBeDocumentedExactlyForTheRequestMethodsTheyHandle() {
		assertThat(parameter("/orders/put", "put", "Idempotency-Key")).isNotNull();
		assertThat(parameter("/orders/{id}", "delete", "Idempotency-Key")).isNotNull();
		assertThat(parameter("/class-level/first", "post", "Idempotency-Key")).isNotNull();
		assertThat(parameter("/class-level/put", "put", "Idempotency-Key")).isNull();
		assertThat(this.paths.at("/~1class-level~1put/put/responses").has("409")).isFalse();
		assertThat(parameter("/class-put/item", "put", "Idempotency-Key")).isNull();
	}

	// Springdoc makes an operation for each request method a handler is mapped to,
	// without telling the starter's customizer which.
	@Test
	void handlerOfSeveralRequestMethodsShouldBeDocumentedForTheCoveredOnes() {
		assertThat(parameter("/class-level/either", "post", "Idempotency-Key")).isNotNull();
		assertThat(this.paths.at("/~1class-level~1either/post/responses").has("409")).isTrue();
		assertThat(parameter("/class-level/either", "put", "Idempotency-Key")).isNull();
		assertThat(this.paths.at("/~1class-level~1either/put/responses").has("409")).isFalse();
		assertThat(this.paths.toString()).doesNotContain("x-idempotency");
	}

	@Test
	void otherOperationsShouldBeUntouched() {
		assertThat(parameter("/orders/unannotated", "post", "Idempotency-Key")).isNull();
		assertThat(this.paths.at("/~1orders~1unannotated/post/responses").has("409")).isFalse();
	}

	private JsonNode parameter(String path, String method, String name) {
		JsonNode parameters = this.paths.path(path).path(method).path("parameters");
		for (JsonNode parameter : parameters) {
			if (parameter.get("name").asText().equals(name)) {
				return parameter;
			}
		}
		return null;
	}

}
