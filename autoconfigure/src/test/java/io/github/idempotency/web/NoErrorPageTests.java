package io.github.idempotency.web;

import java.net.http.HttpResponse;
import java.util.Optional;
import java.util.stream.Stream;

import io.github.idempotency.web.edge.EdgeApplication;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.util.ClassUtils;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Without Spring Boot's error page, the container answers a status sent with
 * {@code sendError} itself, and no error dispatch follows: the claim, kept open for that
 * dispatch, is released when the request ends, so a retry runs the handler again rather
 * than wait for the lease.
 */
@SpringBootTest(classes = EdgeApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "idempotency.key-prefix=no-error-page-test")
class NoErrorPageTests extends AbstractWebTests {

	@DynamicPropertySource
	static void withoutErrorPage(DynamicPropertyRegistry registry) {
		// Spring Boot 3.5's name, then Spring Boot 4's.
		String errorPages = Stream
			.of("org.springframework.boot.autoconfigure.web.servlet.error.ErrorMvcAutoConfiguration",
					"org.springframework.boot.webmvc.autoconfigure.error.ErrorMvcAutoConfiguration")
			.filter((name) -> ClassUtils.isPresent(name, null))
			.findFirst()
			.orElseThrow();
		registry.add("spring.autoconfigure.exclude", () -> errorPages);
	}

	@ParameterizedTest
	@ValueSource(strings = { "/edge/refused-after-work", "/edge/refused-after-async-work",
			"/edge/refused-after-deferred-work" })
	void statusSentWithNoErrorPageShouldReleaseTheKeyWhenTheRequestEnds(String path) {
		HttpResponse<byte[]> first = this.http.post(path).key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post(path).key(this.key).name(this.key).send();

		assertThat(first.statusCode()).isEqualTo(409);
		assertThat(first.headers().firstValue("Content-Type")).isNotEqualTo(Optional.of("application/problem+json"));
		// Not the 409 of a claim still held: the handler ran again.
		assertThat(retry.statusCode()).isEqualTo(409);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(this.executions.count(this.key)).isEqualTo(2);
	}

}
