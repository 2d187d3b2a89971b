package io.github.idempotency.web;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.web.app.Executions;
import io.github.idempotency.web.edge.EdgeApplication;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.resilience.annotation.EnableResilientMethods;
import org.springframework.resilience.annotation.Retryable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Spring Framework 7's {@code @Retryable}, whose advice comes before every other, on an
 * idempotent handler and on an idempotent method: the attempts of a request share its
 * claim, and a later request's attempts all get its answer; each attempt of a method
 * call is a call of its own.
 */
@SpringBootTest(classes = { EdgeApplication.class, RetryableTests.Resilient.class },
		webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "idempotency.key-prefix=retryable-test")
class RetryableTests extends AbstractWebTests {

	@Autowired
	Ledger ledger;

	@Test
	void retriedHandlerShouldRunOnlyUnderItsRequestsClaim() {
		HttpResponse<byte[]> first = post("fails once");
		HttpResponse<byte[]> retry = post("fails once");
		HttpResponse<byte[]> other = post("another payload");

		assertThat(first.statusCode()).as(TestHttp.text(first)).isEqualTo(201);
		assertThat(TestHttp.text(first)).isEqualTo("paid fails once on run 2");
		assertThat(retry.statusCode()).isEqualTo(201);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(TestHttp.text(retry)).isEqualTo("paid fails once on run 2");
		assertThat(other.statusCode()).isEqualTo(422);
		assertThat(this.executions.count(this.key)).isEqualTo(2);
	}

	@Test
	void retriedMethodShouldKeepTheAttemptThatReturned() {
		assertThat(this.ledger.book(this.key)).isEqualTo("booked on run 2");
		assertThat(this.ledger.book(this.key)).isEqualTo("booked on run 2");
		assertThat(this.executions.count(this.key)).isEqualTo(2);
	}

	private HttpResponse<byte[]> post(String body) {
		return this.http.post("/retryable")
			.key(this.key)
			.name(this.key)
			.body(body.getBytes(StandardCharsets.US_ASCII), "text/plain")
			.send();
	}

	@TestConfiguration(proxyBeanMethods = false)
	@EnableResilientMethods
	static class Resilient {

		@Bean
		RetriedPayments retriedPayments(Executions executions) {
			return new RetriedPayments(executions);
		}

		@Bean
		Ledger ledger(Executions executions) {
			return new Ledger(executions);
		}

	}

	@RestController
	static class RetriedPayments {

		private final Executions executions;

		RetriedPayments(Executions executions) {
			this.executions = executions;
		}

		@PostMapping("/retryable")
		@Idempotent
		@Retryable(maxRetries = 2, delay = 0)
		ResponseEntity<String> pay(@RequestHeader("X-Test-Name") String name, @RequestBody String body) {
			int run = this.executions.record(name);
			if (run == 1 && body.equals("fails once")) {
				throw new IllegalStateException("The gateway timed out");
			}
			return ResponseEntity.status(HttpStatus.CREATED).body("paid " + body + " on run " + run);
		}

	}

	static class Ledger {

		private final Executions executions;

		Ledger(Executions executions) {
			this.executions = executions;
		}

		@Idempotent(key = "#reference")
		@Retryable(maxRetries = 2, delay = 0)
		public String book(String reference) {
			int run = this.executions.record(reference);
			if (run == 1) {
				throw new IllegalStateException("The ledger is busy");
			}
			return "booked on run " + run;
		}

	}

}
