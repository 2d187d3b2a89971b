package io.github.idempotency.web;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;

/**
 * A plain HTTP client for the web tests: raw bytes, every header as sent, nothing
 * retried.
 */
final class TestHttp {

	private final HttpClient client;

	private final String base;

	TestHttp(int port) {
		this(port, HttpClient.Version.HTTP_1_1);
	}

	/**
	 * A client that speaks the given version: {@code HTTP_2} upgrades the first request
	 * of a connection from HTTP/1.1 (h2c), and multiplexes every later one over it.
	 */
	TestHttp(int port, HttpClient.Version version) {
		this.client = HttpClient.newBuilder().version(version).connectTimeout(Duration.ofSeconds(5)).build();
		this.base = "http://127.0.0.1:" + port;
	}

	Request post(String path) {
		return new Request("POST", path);
	}

	Request get(String path) {
		return new Request("GET", path);
	}

	Request put(String path) {
		return new Request("PUT", path);
	}

	Request delete(String path) {
		return new Request("DELETE", path);
	}

	Request head(String path) {
		return new Request("HEAD", path);
	}

	Request method(String method, String path) {
		return new Request(method, path);
	}

	final class Request {

		private final String method;

		private final HttpRequest.Builder builder;

		private byte[] body = new byte[0];

		Request(String method, String path) {
			this.method = method;
			this.builder = HttpRequest.newBuilder(URI.create(TestHttp.this.base + path))
				.timeout(Duration.ofSeconds(30));
		}

		Request header(String name, String value) {
			this.builder.header(name, value);
			return this;
		}

		Request key(String key) {
			return header("Idempotency-Key", key);
		}

		Request basic(String user, String password) {
			String credentials = Base64.getEncoder()
				.encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
			return header("Authorization", "Basic " + credentials);
		}

		Request name(String name) {
			return header("X-Test-Name", name);
		}

		Request json(String json) {
			this.builder.header("Content-Type", "application/json");
			this.body = json.getBytes(StandardCharsets.UTF_8);
			return this;
		}

		Request form(String form) {
			this.builder.header("Content-Type", "application/x-www-form-urlencoded");
			this.body = form.getBytes(StandardCharsets.UTF_8);
			return this;
		}

		Request body(byte[] body, String contentType) {
			this.builder.header("Content-Type", contentType);
			this.body = body;
			return this;
		}

		HttpResponse<byte[]> send() {
			try {
				return TestHttp.this.client.send(build(), HttpResponse.BodyHandlers.ofByteArray());
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException(ex);
			}
		}

		/**
		 * Sends the request without waiting for its answer; cancelling the future
		 * abandons the exchange (over HTTP/2, resets the stream).
		 */
		CompletableFuture<HttpResponse<byte[]>> sendAsync() {
			return TestHttp.this.client.sendAsync(build(), HttpResponse.BodyHandlers.ofByteArray());
		}

		private HttpRequest build() {
			return this.builder.method(this.method, HttpRequest.BodyPublishers.ofByteArray(this.body)).build();
		}

	}

	static String text(HttpResponse<byte[]> response) {
		return new String(response.body(), StandardCharsets.UTF_8);
	}

}
