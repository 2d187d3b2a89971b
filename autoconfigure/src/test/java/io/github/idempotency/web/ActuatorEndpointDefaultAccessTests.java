package io.github.idempotency.web;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.web.app.TestApplication;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code idempotency} endpoint exposed as an application that only lists it: records
 * can be read, not deleted, since a deleted record lets a retry run its operation again.
 */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=endpoint-access-test",
				"management.endpoints.web.exposure.include=idempotency" })
class ActuatorEndpointDefaultAccessTests extends AbstractWebTests {

	private final HttpClient client = HttpClient.newHttpClient();

	@Test
	void recordShouldBeReadableButNotDeletable() throws Exception {
		this.http.post("/orders").key(this.key).name(this.key).json("{\"item\":\"book\",\"quantity\":2}").send();
		String path = "/actuator/idempotency/" + Hashing.recordKey("POST /orders", this.key);

		HttpResponse<String> delete = send("DELETE", path);
		HttpResponse<String> read = send("GET", path);

		assertThat(delete.statusCode()).isEqualTo(405);
		assertThat(read.statusCode()).isEqualTo(200);
		assertThat(read.body()).contains("\"state\":\"completed\"");
	}

	private HttpResponse<String> send(String method, String path) throws Exception {
		return this.client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + path))
			.method(method, HttpRequest.BodyPublishers.noBody())
			.build(), HttpResponse.BodyHandlers.ofString());
	}

}
