package io.github.idempotency.web;

import java.net.http.HttpResponse;

import io.github.idempotency.web.app.TestApplication;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web tests' run on virtual threads (the {@code virtual-threads} execution of this
 * module's build, on a JDK 21 or later with {@code spring.threads.virtual.enabled}) is on
 * them: without this, a JDK or a Spring Boot that ignored the property would quietly run
 * them on the server's pool again. Synchronous handlers run on the server's virtual
 * threads, a {@code Callable} on the virtual threads of Spring Boot's task executor.
 */
@EnabledIfSystemProperty(named = "idempotency.test.threads", matches = "virtual")
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "idempotency.key-prefix=virtual-thread-test")
class VirtualThreadTests extends AbstractWebTests {

	private static final String ORDER = "{\"item\":\"book\",\"quantity\":2}";

	@Test
	void handlerShouldRunOnceOnAVirtualThread() {
		HttpResponse<byte[]> first = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> retry = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		assertThat(first.statusCode()).isEqualTo(201);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isOne();
		assertThat(this.executions.thread(this.key)).startsWith("VirtualThread");
	}

	@Test
	void callableShouldRunOnceOnAVirtualThread() {
		HttpResponse<byte[]> first = this.http.post("/orders/callable").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/callable").key(this.key).name(this.key).json(ORDER).send();
		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isOne();
		assertThat(this.executions.thread(this.key)).startsWith("VirtualThread");
	}

}
