package io.github.idempotency.sample;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import io.github.idempotency.test.RedisTestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The soak fuzz run, outside CI's time: generated keys, extra headers and bodies, each
 * sent twice to the sample's payments endpoint over raw sockets, from four clients at
 * once. Never a 5xx, and never a payment charged twice. Runs only when
 * {@code soak.requests} is set, as the {@code soak} Maven profile does (100,000); seeded
 * by {@code soak.seed}, so a failure can be replayed.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "sample.embedded-redis.enabled=false", "idempotency.key-prefix=soak",
				"logging.level.org.apache.coyote=WARN" })
@EnabledIfSystemProperty(named = "soak.requests", matches = "\\d+")
class SoakFuzzTests {

	private static final int CLIENTS = 4;

	@LocalServerPort
	private int port;

	@Autowired
	private PaymentLedger ledger;

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
	}

	@Test
	void generatedRequestsShouldNeverGetServerErrorsOrChargeTwice() throws Exception {
		int requests = Integer.getInteger("soak.requests");
		long seed = Long.getLong("soak.seed", 20261202L);
		Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
		List<String> serverErrors = new ArrayList<>();
		long start = System.nanoTime();
		ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
		List<Future<?>> done = new ArrayList<>();
		for (int client = 0; client < CLIENTS; client++) {
			int first = client;
			done.add(clients.submit(() -> {
				Random random = new Random(seed + first);
				for (int i = first; i < requests; i += CLIENTS) {
					byte[] request = request(random, i);
					for (int attempt = 0; attempt < 2; attempt++) {
						int status = send(request);
						statuses.computeIfAbsent(status, (s) -> new AtomicInteger()).incrementAndGet();
						if (status >= 500) {
							synchronized (serverErrors) {
								serverErrors.add(status + " for request " + i + " (seed " + seed + ")");
							}
						}
					}
				}
				return null;
			}));
		}
		for (Future<?> client : done) {
			client.get();
		}
		clients.shutdown();
		long seconds = Math.max(1, (System.nanoTime() - start) / 1_000_000_000L);

		Map<String, Long> chargesPerReference = this.ledger.payments()
			.stream()
			.filter((payment) -> payment.reference().startsWith("soak-"))
			.collect(Collectors.groupingBy(Payment::reference, Collectors.counting()));
		Map<Integer, Integer> counts = new TreeMap<>();
		statuses.forEach((status, count) -> counts.put(status, count.get()));
		System.out.printf(
				"Soak: %d generated requests, each sent twice, in %d s (%d requests/s); statuses %s;"
						+ " %d payments charged%n",
				requests, seconds, 2L * requests / seconds, counts, chargesPerReference.size());
		assertThat(serverErrors).isEmpty();
		assertThat(chargesPerReference).allSatisfy((reference, charges) -> assertThat(charges).as(reference).isOne());
		assertThat(counts).containsKeys(201, 400);
	}

	// One request, written byte by byte as a careless or hostile client might: a key of
	// any bytes, extra headers, and a body that is a valid payment in another spelling,
	// an invalid one, or not JSON at all.
	private static byte[] request(Random random, int i) {
		ByteArrayOutputStream request = new ByteArrayOutputStream();
		byte[] body = body(random, i);
		write(request, "POST /payments HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
		write(request, "Content-Type: " + pick(random, "application/json", "application/json", "application/json",
				"application/json; charset=UTF-8", "application/problem+json", "text/plain") + "\r\n");
		write(request, "Content-Length: " + body.length + "\r\n");
		for (int h = random.nextInt(4); h > 0; h--) {
			write(request, "X-" + token(random) + ": ");
			request.writeBytes(headerValue(random));
			write(request, "\r\n");
		}
		if (random.nextInt(20) != 0) {
			write(request, "Idempotency-Key: ");
			request.writeBytes(key(random, i));
			write(request, "\r\n");
		}
		write(request, "\r\n");
		request.writeBytes(body);
		return request.toByteArray();
	}

	private static byte[] key(Random random, int i) {
		return switch (random.nextInt(6)) {
			case 0 -> ("\"soak-key-" + i + "\"").getBytes(StandardCharsets.US_ASCII);
			case 1 -> headerValue(random);
			case 2 -> new byte[random.nextInt(3)];
			default ->
				("soak-key-" + i + "-" + Long.toHexString(random.nextLong())).getBytes(StandardCharsets.US_ASCII);
		};
	}

	private static byte[] body(Random random, int i) {
		String reference = "soak-" + i;
		long amount = 1 + random.nextInt(1_200_000);
		String currency = pick(random, "EUR", "USD", "GBP", "EUR", "eur", "EURO");
		List<String> members = new ArrayList<>(List.of("\"amount\": " + amount, "\"currency\": \"" + currency + "\"",
				"\"reference\": \"" + reference + "\""));
		Collections.shuffle(members, random);
		String json = "{" + String.join(pick(random, ",", ", ", ",\n  "), members) + "}";
		byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
		return switch (random.nextInt(10)) {
			case 0 -> {
				byte[] noise = new byte[random.nextInt(2048)];
				random.nextBytes(noise);
				yield noise;
			}
			case 1 -> Arrays.copyOf(bytes, random.nextInt(bytes.length));
			case 2 -> {
				bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
				yield bytes;
			}
			default -> bytes;
		};
	}

	private static String token(Random random) {
		String chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&'*+^`|~";
		StringBuilder token = new StringBuilder();
		for (int n = 1 + random.nextInt(12); n > 0; n--) {
			token.append(chars.charAt(random.nextInt(chars.length())));
		}
		return token.toString();
	}

	// Mostly visible ASCII and tabs, as HTTP allows; a third of the time any byte but CR
	// and LF, which would end the header line (the container refuses most of those).
	private static byte[] headerValue(Random random) {
		boolean anyByte = random.nextInt(3) == 0;
		byte[] value = new byte[random.nextInt(random.nextBoolean() ? 40 : 600)];
		for (int b = 0; b < value.length; b++) {
			byte next = (byte) (anyByte ? random.nextInt(256) : 0x20 + random.nextInt(0x5f));
			value[b] = (next == '\r' || next == '\n') ? (byte) ' ' : next;
		}
		return value;
	}

	@SafeVarargs
	private static <T> T pick(Random random, T... choices) {
		return choices[random.nextInt(choices.length)];
	}

	private static void write(ByteArrayOutputStream out, String text) {
		out.writeBytes(text.getBytes(StandardCharsets.ISO_8859_1));
	}

	// One request on a connection of its own, read to its end; closed without lingering,
	// so that hundreds of thousands of connections leave no ports in TIME_WAIT.
	private int send(byte[] request) throws IOException {
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			socket.setSoTimeout(30_000);
			socket.setSoLinger(true, 0);
			OutputStream output = socket.getOutputStream();
			try {
				output.write(request);
				output.flush();
			}
			catch (IOException ex) {
				// The server may answer and close before reading a body it refuses.
			}
			InputStream input = socket.getInputStream();
			String statusLine = new String(input.readNBytes(12), StandardCharsets.US_ASCII);
			input.transferTo(OutputStream.nullOutputStream());
			return Integer.parseInt(statusLine.substring(9, 12));
		}
	}

}
