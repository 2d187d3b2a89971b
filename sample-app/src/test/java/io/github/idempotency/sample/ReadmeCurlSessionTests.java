package io.github.idempotency.sample;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.github.idempotency.test.RedisTestServer;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs the curl session of the README's "Try it" section against the sample, so that it
 * cannot rot: every step must answer the status its comment announces ("→ 201").
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "sample.embedded-redis.enabled=false", "sample.payments.processing-delay=2s" })
class ReadmeCurlSessionTests {

	private static final Pattern SESSION = Pattern.compile("## Try it.*?```shell\\n(.*?)```", Pattern.DOTALL);

	private static final Pattern ANNOUNCED_STATUS = Pattern.compile("^#.*→ (\\d{3})", Pattern.MULTILINE);

	private static final Pattern RECEIVED_STATUS = Pattern.compile("^HTTP/1\\.1 (\\d{3})", Pattern.MULTILINE);

	private static final Pattern KEY = Pattern.compile("Idempotency-Key: ([^']+)'");

	@LocalServerPort
	private int port;

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
		// A stream of its own per run: Redis outlives the tests.
		registry.add("sample.ledger.stream", () -> "sample-readme:payments.captured:" + UUID.randomUUID());
	}

	@Test
	void readmeSessionShouldAnswerWhatItAnnounces() throws Exception {
		String readme = Files.readString(Path.of("..", "README.md"));
		Matcher session = SESSION.matcher(readme);
		assertThat(session.find()).as("README has a 'Try it' shell session").isTrue();
		String script = session.group(1);
		List<String> announced = all(ANNOUNCED_STATUS, script);
		assertThat(announced).containsExactly("201", "201", "422", "409", "202", "200");

		// Keys made unique per run, since Redis remembers earlier runs for a day.
		String run = UUID.randomUUID().toString();
		String runnable = KEY.matcher(script.replace("localhost:8080", "127.0.0.1:" + this.port))
			.replaceAll((key) -> "Idempotency-Key: " + key.group(1) + "-" + run + "'");
		String output = bash(runnable);

		assertThat(all(RECEIVED_STATUS, output)).as(output).isEqualTo(announced);
		assertThat(output).contains("Idempotent-Replayed: true").contains("Retry-After: 1");
		// Booked once, delivered twice.
		String ledger = output.substring(output.lastIndexOf("HTTP/1.1 200"));
		assertThat(ledger).containsOnlyOnce("\"paymentId\":\"pay_1\"").contains("\"deliveries\":2");
	}

	private static List<String> all(Pattern pattern, String text) {
		List<String> found = new ArrayList<>();
		Matcher matcher = pattern.matcher(text);
		while (matcher.find()) {
			found.add(matcher.group(1));
		}
		return found;
	}

	private static String bash(String script) throws IOException, InterruptedException {
		Process process = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).start();
		assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
		return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).replace("\r", "");
	}

}
