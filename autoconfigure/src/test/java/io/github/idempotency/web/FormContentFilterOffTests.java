package io.github.idempotency.web;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import io.github.idempotency.web.edge.EdgeApplication;
import io.github.idempotency.web.edge.SignedBodyCheck;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A form sent with {@code PUT} when Spring's {@code FormContentFilter} is off: no
 * container reads it into parameters for the handler (some do for the starter's own look,
 * Tomcat does not), so the starter takes it as any other body, and a key reused with
 * another form is refused rather than replayed.
 */
@SpringBootTest(classes = EdgeApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=form-content-filter-off-test",
				"spring.mvc.formcontent.filter.enabled=false", "idempotency.max-body-size=1KB" })
class FormContentFilterOffTests extends AbstractWebTests {

	@Test
	void formSentWithPutShouldCountByItsBody() {
		HttpResponse<byte[]> first = this.http.put("/edge/form").key(this.key).name(this.key).form("item=pen").send();
		HttpResponse<byte[]> other = this.http.put("/edge/form").key(this.key).name(this.key).form("item=ink").send();
		HttpResponse<byte[]> retry = this.http.put("/edge/form").key(this.key).name(this.key).form("item=pen").send();

		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(TestHttp.text(first)).isEqualTo((JETTY || UNDERTOW) ? "1:pen:null" : "1:null:item=pen");
		assertThat(other.statusCode()).isEqualTo(422);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isOne();
	}

	// A filter after the starter's wraps the request so that the body can be read again,
	// and the application's interceptor reads it, to check its signature, before the
	// starter's: the form counts as it was read, on every container.
	@Test
	void formSentWithPutThatTheApplicationReadFirstShouldCountByItsBody() {
		HttpResponse<byte[]> first = signed(this.http.put("/edge/form"), "item=pen").send();
		HttpResponse<byte[]> other = signed(this.http.put("/edge/form"), "item=ink").send();
		HttpResponse<byte[]> retry = signed(this.http.put("/edge/form"), "item=pen").send();

		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(TestHttp.text(first)).endsWith(":item=pen");
		assertThat(other.statusCode()).isEqualTo(422);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isOne();
	}

	private TestHttp.Request signed(TestHttp.Request request, String form) {
		return request.key(this.key)
			.name(this.key)
			.header("X-Signature", SignedBodyCheck.signature(form.getBytes(StandardCharsets.UTF_8)))
			.form(form);
	}

	// Read as a body, such a form is held to idempotency.max-body-size as bodies are.
	@Test
	void formSentWithPutLargerThanAllowedShouldBeRefusedWhereTheContainerLeavesIt() {
		HttpResponse<byte[]> response = this.http.put("/edge/form")
			.key(this.key)
			.name(this.key)
			.form("item=" + "a".repeat(2000))
			.send();

		if (JETTY || UNDERTOW) {
			assertThat(response.statusCode()).isEqualTo(200);
			assertThat(this.executions.count(this.key)).isOne();
		}
		else {
			assertThat(response.statusCode()).isEqualTo(413);
			assertThat(TestHttp.text(response)).contains("idempotency-request-too-large");
			assertThat(this.executions.count(this.key)).isZero();
		}
	}

}
