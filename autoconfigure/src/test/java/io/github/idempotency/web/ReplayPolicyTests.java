package io.github.idempotency.web;

import java.net.http.HttpResponse;
import java.util.UUID;

import io.github.idempotency.web.app.TestApplication;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The opposite of the default replay policy: server errors stored, client errors
 * released, and a narrower set of replayed headers.
 */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=policy-test", "idempotency.replay-server-errors=true",
				"idempotency.replay-client-errors=false", "idempotency.replayed-headers=Content-Type",
				"idempotency.replayed-header-name=X-Replayed" })
class ReplayPolicyTests extends AbstractWebTests {

	private static final String ORDER = "{\"item\":\"book\",\"quantity\":2}";

	@Test
	void serverErrorShouldBeReplayedWhenConfigured() {
		String key = UUID.randomUUID().toString();
		TestHttp http = new TestHttp(this.port);
		http.post("/orders/unavailable").key(key).name(key).send();
		HttpResponse<byte[]> retry = http.post("/orders/unavailable").key(key).name(key).send();

		assertThat(retry.statusCode()).isEqualTo(503);
		assertThat(TestHttp.text(retry)).isEqualTo("try later");
		assertThat(retry.headers().firstValue("X-Replayed")).hasValue("true");
		assertThat(this.executions.count(key)).isEqualTo(1);
	}

	// The refusal is the starter's, not the handler's answer, whatever the policy: the
	// key is released, as after any failure of the handler, which then runs again.
	@Test
	void refusalOfAsyncProcessingTheHandlerStartedShouldNeverBeReplayed() {
		String key = UUID.randomUUID().toString();
		TestHttp http = new TestHttp(this.port);
		HttpResponse<byte[]> first = http.post("/orders/raw-async").key(key).name(key).send();
		HttpResponse<byte[]> retry = http.post("/orders/raw-async").key(key).name(key).send();

		assertThat(first.statusCode()).isEqualTo(503);
		assertThat(TestHttp.text(first)).contains("idempotency-not-protected");
		assertThat(retry.statusCode()).isEqualTo(503);
		assertThat(retry.headers().firstValue("X-Replayed")).isEmpty();
		assertThat(this.executions.count(key)).isEqualTo(2);
	}

	@Test
	void clientErrorShouldBeReleasedWhenConfigured() {
		String key = UUID.randomUUID().toString();
		TestHttp http = new TestHttp(this.port);
		http.post("/orders/declined").key(key).name(key).send();
		HttpResponse<byte[]> retry = http.post("/orders/declined").key(key).name(key).send();

		assertThat(TestHttp.text(retry)).isEqualTo("declined on run 2");
		assertThat(this.executions.count(key)).isEqualTo(2);
	}

	@Test
	void onlyConfiguredHeadersShouldBeReplayed() {
		String key = UUID.randomUUID().toString();
		TestHttp http = new TestHttp(this.port);
		HttpResponse<byte[]> first = http.post("/orders").key(key).name(key).json(ORDER).send();
		HttpResponse<byte[]> retry = http.post("/orders").key(key).name(key).json(ORDER).send();

		assertThat(first.headers().firstValue("Location")).isPresent();
		assertThat(retry.headers().firstValue("Location")).isEmpty();
		assertThat(retry.headers().firstValue("Content-Type")).isEqualTo(first.headers().firstValue("Content-Type"));
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(retry.headers().firstValue("X-Replayed")).hasValue("true");
	}

}
