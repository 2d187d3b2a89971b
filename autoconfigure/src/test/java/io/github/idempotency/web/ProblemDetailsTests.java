package io.github.idempotency.web;

import java.net.http.HttpResponse;

import io.github.idempotency.web.edge.EdgeApplication;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With Spring Boot's problem details on, Spring MVC writes a
 * {@code ResponseStatusException} as a response body instead of sending the status to the
 * error page: the 4xx is stored, and a handler that refused after its work is not run
 * again.
 */
@SpringBootTest(classes = EdgeApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=problem-details-test", "spring.mvc.problemdetails.enabled=true" })
class ProblemDetailsTests extends AbstractWebTests {

	@Test
	void statusExceptionAfterTheWorkShouldBeStoredAndReplayed() {
		HttpResponse<byte[]> first = this.http.post("/edge/refused-after-work").key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post("/edge/refused-after-work").key(this.key).name(this.key).send();

		assertThat(first.statusCode()).isEqualTo(409);
		assertThat(TestHttp.text(first)).contains("already shipped");
		assertThat(retry.statusCode()).isEqualTo(409);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

}
