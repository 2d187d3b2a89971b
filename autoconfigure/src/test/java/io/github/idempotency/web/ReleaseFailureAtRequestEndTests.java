package io.github.idempotency.web;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.store.memory.InMemoryIdempotencyStore;
import io.github.idempotency.web.edge.EdgeApplication;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A store that fails unexpectedly while the claim of a request whose error page never
 * came is released at the request's end: the failure is logged, and the response the
 * container has sent stays whole.
 */
@SpringBootTest(classes = { EdgeApplication.class, ReleaseFailureAtRequestEndTests.Config.class },
		webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "idempotency.key-prefix=release-failure-test")
@ExtendWith(OutputCaptureExtension.class)
class ReleaseFailureAtRequestEndTests extends AbstractWebTests {

	@DynamicPropertySource
	static void withoutErrorPage(DynamicPropertyRegistry registry) {
		NoErrorPageTests.withoutErrorPage(registry);
	}

	@Test
	void storeFailingToReleaseAtTheEndOfTheRequestShouldBeLoggedAndLeaveTheResponseWhole(CapturedOutput output)
			throws InterruptedException {
		HttpResponse<byte[]> response = this.http.post("/edge/refused-after-work").key(this.key).name(this.key).send();

		assertThat(response.statusCode()).isEqualTo(409);
		assertThat(new String(response.body(), StandardCharsets.UTF_8)).contains("</html>");
		// The request ends, and the release fails, after the client has its response.
		String failure = "Could not release the idempotency key of a request whose error page never came";
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
		while (!output.getOut().contains(failure) && System.nanoTime() < deadline) {
			Thread.sleep(10);
		}
		assertThat(output).contains(failure).contains("release refused");
	}

	@TestConfiguration(proxyBeanMethods = false)
	static class Config {

		@Bean
		IdempotencyStore failingToRelease() {
			return new InMemoryIdempotencyStore() {

				@Override
				public boolean release(String key, String token) {
					throw new IllegalStateException("release refused");
				}

			};
		}

	}

}
