package io.github.idempotency.web;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

import io.github.idempotency.web.edge.EdgeApplication;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application that asks for interface-based proxies, with a controller that implements
 * the interface its mappings are declared on: the controller an idempotent handler makes
 * proxied is still found by Spring MVC, and its handler still runs once.
 */
@SpringBootTest(classes = EdgeApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=interface-based-proxies-test", "spring.aop.proxy-target-class=false" })
class InterfaceBasedProxiesTests extends AbstractWebTests {

	@Test
	void handlerOfAControllerThatImplementsItsApiShouldRunOnce() {
		HttpResponse<byte[]> first = pay("coffee");
		HttpResponse<byte[]> retry = pay("coffee");
		HttpResponse<byte[]> other = pay("tea");

		assertThat(first.statusCode()).as(TestHttp.text(first)).isEqualTo(201);
		assertThat(TestHttp.text(first)).isEqualTo("paid coffee on run 1");
		assertThat(retry.statusCode()).isEqualTo(201);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(other.statusCode()).isEqualTo(422);
		assertThat(this.executions.count(this.key)).isOne();
	}

	@Test
	void handlerTheApiDeclaresIdempotentShouldRunOnce() {
		HttpResponse<byte[]> first = send("/edge/api/refunds", "coffee");
		HttpResponse<byte[]> retry = send("/edge/api/refunds", "coffee");

		assertThat(first.statusCode()).as(TestHttp.text(first)).isEqualTo(200);
		assertThat(TestHttp.text(first)).isEqualTo("refunded coffee on run 1");
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isOne();
	}

	// After the handler threw, its exception handler calls an idempotent method of a
	// bean that implements the same interface as the controller (so, through that bean's
	// interface-based proxy, the same method): that call goes its own way, under its own
	// key, and runs once for two requests with different keys.
	@Test
	void methodOfTheHandlersInterfaceCalledAfterItThrewShouldNotBeTakenForTheHandler() {
		HttpResponse<byte[]> first = send("/edge/api/declined", "100");
		String otherKey = this.key;
		this.key = UUID.randomUUID().toString();
		HttpResponse<byte[]> second = this.http.post("/edge/api/declined")
			.key(this.key)
			.name(otherKey)
			.body("100".getBytes(StandardCharsets.US_ASCII), "text/plain")
			.send();

		assertThat(first.statusCode()).as(TestHttp.text(first)).isEqualTo(422);
		assertThat(TestHttp.text(first)).isEqualTo("refund 1");
		assertThat(TestHttp.text(second)).isEqualTo("refund 1");
		assertThat(this.executions.count("refund " + otherKey)).isOne();
	}

	// Its interface carries @RestController and @Idempotent: Spring MVC maps it through
	// its interface-based proxy, whose handler is the interface's method.
	@Test
	void handlerOfAControllerWhoseInterfaceIsTheControllerShouldRunOnce() {
		HttpResponse<byte[]> first = send("/edge/api/annotated/refunds", "coffee");
		HttpResponse<byte[]> retry = send("/edge/api/annotated/refunds", "coffee");
		HttpResponse<byte[]> other = send("/edge/api/annotated/refunds", "tea");

		assertThat(first.statusCode()).as(TestHttp.text(first)).isEqualTo(200);
		assertThat(TestHttp.text(first)).isEqualTo("refunded coffee on run 1");
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(other.statusCode()).isEqualTo(422);
		assertThat(this.executions.count(this.key)).isOne();
	}

	private HttpResponse<byte[]> pay(String body) {
		return send("/edge/api/payments", body);
	}

	private HttpResponse<byte[]> send(String path, String body) {
		return this.http.post(path)
			.key(this.key)
			.name(this.key)
			.body(body.getBytes(StandardCharsets.US_ASCII), "text/plain")
			.send();
	}

}
