package io.github.idempotency.sample;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.UUID;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.store.jdbc.JdbcIdempotencyStore;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sample under its jdbc profile: records in PostgreSQL, no Redis at all. Uses the
 * PostgreSQL named by {@code IDEMPOTENCY_TEST_JDBC_URL} (CI sets it), else the local one;
 * skipped on a machine that has none.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "idempotency.jdbc.table-name=sample_idempotency_record")
@ActiveProfiles("jdbc")
class JdbcProfileTests {

	private static final String URL_VARIABLE = "IDEMPOTENCY_TEST_JDBC_URL";

	private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

	@LocalServerPort
	private int port;

	@Autowired
	private IdempotencyStore store;

	@Autowired
	private JdbcTemplate jdbc;

	private static String url() {
		String configured = System.getenv(URL_VARIABLE);
		return (configured != null && !configured.isBlank()) ? configured
				: "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres";
	}

	@BeforeAll
	static void postgresAnswers() {
		try (Connection connection = DriverManager.getConnection(url())) {
			// It answers.
		}
		catch (SQLException ex) {
			Assumptions.assumeTrue(System.getenv(URL_VARIABLE) != null,
					"No " + URL_VARIABLE + " and no local PostgreSQL: " + ex.getMessage());
			throw new IllegalStateException(URL_VARIABLE + " names a PostgreSQL that does not answer", ex);
		}
	}

	@DynamicPropertySource
	static void postgres(DynamicPropertyRegistry registry) {
		registry.add("spring.datasource.url", JdbcProfileTests::url);
	}

	@Test
	void retryShouldBeReplayedFromTheDatabase() throws Exception {
		assertThat(this.store).isInstanceOf(JdbcIdempotencyStore.class);
		String key = UUID.randomUUID().toString();
		String body = "{\"amount\":1250,\"currency\":\"EUR\",\"reference\":\"order-" + key + "\"}";
		HttpResponse<String> first = post(key, body);
		HttpResponse<String> retry = post(key, body);
		assertThat(first.statusCode()).isEqualTo(201);
		assertThat(retry.statusCode()).isEqualTo(201);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(first.headers().firstValue("Idempotent-Replayed")).isEmpty();
		String payments = this.client
			.send(HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + "/payments")).build(),
					HttpResponse.BodyHandlers.ofString())
			.body();
		assertThat(payments.split("order-" + key, -1)).hasSize(2);
		assertThat(this.jdbc.queryForObject(
				"select count(*) from sample_idempotency_record where completed_at is not null and body = ?",
				Integer.class, first.body().getBytes()))
			.isOne();
	}

	private HttpResponse<String> post(String key, String body) throws Exception {
		return this.client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + "/payments"))
			.header("Content-Type", "application/json")
			.header("Idempotency-Key", key)
			.POST(HttpRequest.BodyPublishers.ofString(body))
			.build(), HttpResponse.BodyHandlers.ofString());
	}

}
