package io.github.idempotency.web;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;

import io.github.idempotency.web.edge.EdgeApplication;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With the server's response compression on, the container compresses below the capture:
 * the record holds the body as the handler wrote it, and every answer, the first and each
 * replay, is compressed for a client that asks for it, as without the starter, and left
 * as it is for one that does not.
 */
@SpringBootTest(classes = EdgeApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=compression-test", "server.compression.enabled=true",
				"server.compression.min-response-size=1B" })
class CompressionTests extends AbstractWebTests {

	@Test
	void answerShouldBeCompressedForEachClientThatAsksForIt() {
		HttpResponse<byte[]> withoutTheStarter = this.http.post("/edge/statement-plain")
			.header("Accept-Encoding", "gzip")
			.send();
		HttpResponse<byte[]> first = statement().header("Accept-Encoding", "gzip").send();
		HttpResponse<byte[]> compressedRetry = statement().header("Accept-Encoding", "gzip").send();
		HttpResponse<byte[]> plainRetry = statement().send();

		assertThat(withoutTheStarter.headers().firstValue("Content-Encoding")).hasValue("gzip");
		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(first.headers().firstValue("Content-Encoding")).hasValue("gzip");
		byte[] body = gunzip(first.body());
		assertThat(new String(body, StandardCharsets.UTF_8))
			.isEqualTo(new String(gunzip(withoutTheStarter.body()), StandardCharsets.UTF_8));
		assertThat(compressedRetry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(compressedRetry.headers().firstValue("Content-Encoding")).hasValue("gzip");
		assertThat(gunzip(compressedRetry.body())).isEqualTo(body);
		assertThat(plainRetry.statusCode()).isEqualTo(200);
		assertThat(plainRetry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(plainRetry.headers().firstValue("Content-Encoding")).isEmpty();
		assertThat(plainRetry.body()).isEqualTo(body);
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	private TestHttp.Request statement() {
		return this.http.post("/edge/statement").key(this.key).name(this.key);
	}

	private static byte[] gunzip(byte[] compressed) {
		try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(compressed))) {
			return in.readAllBytes();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
