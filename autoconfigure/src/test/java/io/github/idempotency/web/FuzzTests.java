package io.github.idempotency.web;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import io.github.idempotency.web.app.TestApplication;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random bytes where keys and bodies go, written straight to the socket so that nothing
 * cleans them up on the way: never a 5xx, and never a second execution of one key.
 * Seeded, so a failure can be replayed.
 */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "idempotency.max-body-size=16KB")
class FuzzTests extends AbstractWebTests {

	private static final long SEED = 20261124L;

	// The keys repeat from run to run, and so would find the records an earlier run (the
	// other server's, or yesterday's) stored, and only replay them.
	@DynamicPropertySource
	static void prefixOfThisRun(DynamicPropertyRegistry registry) {
		registry.add("idempotency.key-prefix", () -> "fuzz-test-" + UUID.randomUUID());
	}

	@Test
	void randomKeysShouldNeverCauseServerErrorOrDuplicateExecution() throws IOException {
		Random random = new Random(SEED);
		Map<Integer, Integer> statuses = new HashMap<>();
		for (int i = 0; i < 400; i++) {
			byte[] key = randomKey(random);
			String name = "fuzz-key-" + i;
			byte[] body = "{\"item\":\"book\",\"quantity\":1}".getBytes(StandardCharsets.US_ASCII);
			int first = send(key, name, "application/json", body);
			int second = send(key, name, "application/json", body);
			statuses.merge(first, 1, Integer::sum);
			statuses.merge(second, 1, Integer::sum);
			assertThat(first).as("status for key %s", printable(key)).isLessThan(500);
			assertThat(second).as("status for key %s", printable(key)).isLessThan(500);
			assertThat(this.executions.count(name)).as("executions for key %s", printable(key)).isLessThanOrEqualTo(1);
		}
		assertThat(statuses).containsKeys(201, 400);
	}

	@Test
	void randomBodiesShouldNeverCauseServerErrorOrDuplicateExecution() throws IOException {
		Random random = new Random(SEED + 1);
		for (int i = 0; i < 300; i++) {
			byte[] body = randomBody(random);
			String key = UUID.randomUUID().toString();
			String name = "fuzz-body-" + i;
			String contentType = random.nextBoolean() ? "application/json" : "application/octet-stream";
			int first = send(key.getBytes(StandardCharsets.US_ASCII), name, contentType, body);
			int second = send(key.getBytes(StandardCharsets.US_ASCII), name, contentType, body);
			assertThat(first).as("status for a body of %d bytes", body.length).isLessThan(500);
			assertThat(second).as("status for a body of %d bytes", body.length).isLessThan(500);
			assertThat(this.executions.count(name)).isLessThanOrEqualTo(1);
		}
	}

	private static byte[] randomKey(Random random) {
		int kind = random.nextInt(5);
		int length = switch (kind) {
			case 0 -> random.nextInt(8);
			case 1 -> 250 + random.nextInt(10);
			case 2 -> 1000 + random.nextInt(7000);
			default -> 1 + random.nextInt(64);
		};
		byte[] key = new byte[length];
		for (int i = 0; i < length; i++) {
			key[i] = switch (kind) {
				// Printable ASCII only: mostly valid keys, some with spaces, quotes or
				// commas.
				case 0, 1, 3 -> (byte) (0x20 + random.nextInt(0x5f));
				// Any byte but CR and LF, which would end the header line.
				default -> {
					byte b = (byte) random.nextInt(256);
					yield (b == '\r' || b == '\n') ? (byte) 'x' : b;
				}
			};
		}
		return key;
	}

	private static byte[] randomBody(Random random) {
		int kind = random.nextInt(4);
		if (kind == 0) {
			byte[] body = new byte[random.nextInt(40 * 1024)];
			random.nextBytes(body);
			return body;
		}
		String json = "{\"item\":\"" + "b".repeat(random.nextInt(20)) + "\",\"quantity\":" + random.nextInt(5) + "}";
		byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
		if (kind == 1) {
			bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
		}
		else if (kind == 2) {
			bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length));
		}
		return bytes;
	}

	// One request on a connection of its own; returns the status the server answered.
	private int send(byte[] key, String name, String contentType, byte[] body) throws IOException {
		ByteArrayOutputStream request = new ByteArrayOutputStream();
		request.writeBytes(("POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Test-Name: " + name
				+ "\r\nContent-Type: " + contentType + "\r\nContent-Length: " + body.length + "\r\nIdempotency-Key: ")
			.getBytes(StandardCharsets.US_ASCII));
		request.writeBytes(key);
		request.writeBytes("\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
		request.writeBytes(body);
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			socket.setSoTimeout(30_000);
			OutputStream output = socket.getOutputStream();
			try {
				output.write(request.toByteArray());
				output.flush();
			}
			catch (IOException ex) {
				// The server may answer and close before reading a body it refuses; the
				// status is still there.
			}
			InputStream input = socket.getInputStream();
			String statusLine = new String(input.readNBytes(12), StandardCharsets.US_ASCII);
			return Integer.parseInt(statusLine.substring(9, 12));
		}
	}

	private static String printable(byte[] key) {
		StringBuilder text = new StringBuilder();
		for (byte b : key) {
			text.append((b >= 0x20 && b < 0x7f) ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff));
		}
		return (text.length() > 80) ? text.substring(0, 80) + "... (" + key.length + " bytes)" : text.toString();
	}

}
