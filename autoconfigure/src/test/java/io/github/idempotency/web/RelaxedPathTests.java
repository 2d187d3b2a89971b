package io.github.idempotency.web;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import io.github.idempotency.web.edge.EdgeApplication;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Paths that Tomcat accepts when told to ({@code server.tomcat.relaxed-path-chars}) but
 * that a URI cannot hold: the starter's problems still reach the client, without an
 * instance. Sent over a raw socket, as HTTP clients refuse such paths.
 */
@SpringBootTest(classes = EdgeApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=relaxed-path-test", "server.tomcat.relaxed-path-chars=[,]" })
class RelaxedPathTests extends AbstractWebTests {

	@Test
	void missingKeyShouldBeAProblem() throws IOException {
		String response = send(request(null, ""));

		assertThat(response).startsWith("HTTP/1.1 400").contains("idempotency-key-missing");
		assertThat(this.executions.count(this.key)).isZero();
	}

	@Test
	void keyReusedWithAnotherBodyShouldBeAProblem() throws IOException {
		String first = send(request(this.key, ""));
		String reused = send(request(this.key, "x"));

		assertThat(first).startsWith("HTTP/1.1 200").contains("order a[1] run 1");
		assertThat(reused).startsWith("HTTP/1.1 422").contains("idempotency-key-mismatch");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	private String request(String key, String body) {
		return "POST /routing/orders/a[1]/pay HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Test-Name: "
				+ this.key + "\r\n" + ((key != null) ? "Idempotency-Key: " + key + "\r\n" : "")
				+ "Content-Type: text/plain\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
	}

	private String send(String request) throws IOException {
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			socket.setSoTimeout(30_000);
			OutputStream output = socket.getOutputStream();
			output.write(request.getBytes(StandardCharsets.ISO_8859_1));
			output.flush();
			InputStream input = socket.getInputStream();
			ByteArrayOutputStream answer = new ByteArrayOutputStream();
			input.transferTo(answer);
			return answer.toString(StandardCharsets.ISO_8859_1);
		}
	}

}
