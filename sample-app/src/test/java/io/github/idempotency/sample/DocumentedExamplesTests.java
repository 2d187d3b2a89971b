package io.github.idempotency.sample;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.test.RedisTestServer;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The examples of the docs, checked against what they stand for: every
 * {@code idempotency.*} property a YAML example sets exists, every {@code @Idempotent}
 * attribute an example uses exists, the getting-started guide's handler and request are
 * the sample's and work against it, and the testing guide's slice test is the one the
 * sample runs on both Spring Boot lines. An app built from the getting-started and
 * testing guides alone is then this sample.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "sample.embedded-redis.enabled=false")
class DocumentedExamplesTests {

	private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

	// A fenced block, indented as a whole when it sits in a list item.
	private static final Pattern BLOCK = Pattern.compile("^( *)```(\\w+)\\n(.*?)\\n\\1```",
			Pattern.DOTALL | Pattern.MULTILINE);

	@LocalServerPort
	private int port;

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
	}

	private static List<Path> documents() throws IOException {
		List<Path> documents = new ArrayList<>(List.of(ROOT.resolve("README.md")));
		try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
			docs.filter((path) -> path.toString().endsWith(".md")).sorted().forEach(documents::add);
		}
		return documents;
	}

	private static List<String> blocks(Path document, String language) throws IOException {
		List<String> blocks = new ArrayList<>();
		Matcher matcher = BLOCK.matcher(Files.readString(document));
		while (matcher.find()) {
			if (matcher.group(2).equals(language)) {
				blocks.add(matcher.group(3).replaceAll("(?m)^" + matcher.group(1), ""));
			}
		}
		return blocks;
	}

	private static String withoutWhitespace(String text) {
		return text.replaceAll("\\s+", "");
	}

	@Test
	void everyIdempotencyPropertyInYamlExamplesShouldExist() throws IOException {
		Set<String> known = new HashSet<>();
		for (Resource resource : new PathMatchingResourcePatternResolver()
			.getResources("classpath*:META-INF/spring-configuration-metadata.json")) {
			try (InputStream metadata = resource.getInputStream()) {
				new ObjectMapper().readTree(metadata)
					.get("properties")
					.forEach((p) -> known.add(p.get("name").asText()));
			}
		}
		List<String> used = new ArrayList<>();
		for (Path document : documents()) {
			for (String block : blocks(document, "yaml")) {
				Object yaml = new Yaml().load(block.replace("${", "$["));
				if (yaml instanceof Map<?, ?> map) {
					flatten("", map, used);
				}
			}
		}
		assertThat(used).isNotEmpty()
			.filteredOn((name) -> name.startsWith("idempotency."))
			.isNotEmpty()
			.allSatisfy((name) -> assertThat(known).as("documented property").contains(name));
	}

	private static void flatten(String prefix, Map<?, ?> map, List<String> names) {
		map.forEach((key, value) -> {
			String name = prefix + key;
			if (value instanceof Map<?, ?> nested) {
				flatten(name + ".", nested, names);
			}
			else {
				names.add(name);
			}
		});
	}

	@Test
	void everyIdempotentAttributeInExamplesShouldExist() throws IOException {
		Set<String> attributes = new HashSet<>(
				Arrays.stream(Idempotent.class.getDeclaredMethods()).map(Method::getName).toList());
		Pattern annotation = Pattern.compile("@Idempotent\\(([^)]*)\\)");
		Pattern attribute = Pattern.compile("(\\w+)\\s*=");
		List<String> used = new ArrayList<>();
		for (Path document : documents()) {
			Matcher usage = annotation.matcher(Files.readString(document));
			while (usage.find()) {
				Matcher name = attribute.matcher(usage.group(1));
				while (name.find()) {
					used.add(name.group(1));
				}
			}
		}
		assertThat(used).contains("key", "ttl", "completion")
			.allSatisfy((name) -> assertThat(attributes).contains(name));
	}

	@Test
	void gettingStartedHandlerShouldBeTheSamplesAndItsRequestShouldWork() throws Exception {
		Path guide = ROOT.resolve("docs/getting-started.md");
		String handler = blocks(guide, "java").get(0);
		// The sample maps /payments on its class; the request below checks the path.
		String signature = withoutWhitespace(handler.substring(handler.indexOf("@Idempotent"), handler.indexOf('{')));
		assertThat(withoutWhitespace(
				Files.readString(Path.of("src/main/java/io/github/idempotency/sample/PaymentController.java"))))
			.contains(signature);

		String curl = blocks(guide, "shell").get(0).replace("\\\n", " ");
		Matcher url = Pattern.compile("curl -X POST localhost:8080(\\S+)").matcher(curl);
		assertThat(url.find()).isTrue();
		HttpRequest.Builder request = HttpRequest
			.newBuilder(URI.create("http://localhost:" + this.port + url.group(1)));
		Matcher header = Pattern.compile("-H '([^:]+): ([^']*)'").matcher(curl);
		while (header.find()) {
			request.header(header.group(1), header.group(2));
		}
		Matcher body = Pattern.compile("-d '([^']*)'").matcher(curl);
		assertThat(body.find()).isTrue();
		HttpRequest post = request.POST(HttpRequest.BodyPublishers.ofString(body.group(1))).build();
		HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
		HttpResponse<String> first = client.send(post, HttpResponse.BodyHandlers.ofString());
		HttpResponse<String> retry = client.send(post, HttpResponse.BodyHandlers.ofString());
		assertThat(first.statusCode()).isEqualTo(201);
		assertThat(retry.statusCode()).isEqualTo(201);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		JsonNode payment = new ObjectMapper().readTree(first.body());
		assertThat(payment.get("reference").asText()).isEqualTo("order-42");
	}

	@Test
	void testingGuideSliceTestShouldBeTheOneTheSampleRunsOnBothLines() throws IOException {
		String documented = blocks(ROOT.resolve("docs/testing.md"), "java").get(0);
		String members = withoutWhitespace(documented.substring(documented.indexOf("private static final String")));
		members = members.substring(0, members.lastIndexOf('}'));
		String sample = withoutWhitespace(Files.readString(
				Path.of("src/test/java/io/github/idempotency/sample/AbstractPaymentControllerSliceTests.java")));
		assertThat(sample).contains(members);
		String annotations = withoutWhitespace(documented.substring(documented.indexOf("@WebMvcTest"),
				documented.indexOf("class PaymentControllerSliceTests")));
		for (String line : List.of("boot3", "boot4")) {
			assertThat(withoutWhitespace(Files.readString(Path
				.of("src/test-" + line + "/java/io/github/idempotency/sample/PaymentControllerSliceTests.java"))))
				.as(line)
				.contains(annotations);
		}
		// The guide names each line's @WebMvcTest; each line's test imports that one.
		assertThat(documented).contains("org.springframework.boot.test.autoconfigure.web.servlet.WebMvcTest;",
				"org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;");
		assertThat(Files
			.readString(Path.of("src/test-boot3/java/io/github/idempotency/sample/PaymentControllerSliceTests.java")))
			.contains("import org.springframework.boot.test.autoconfigure.web.servlet.WebMvcTest;");
		assertThat(Files
			.readString(Path.of("src/test-boot4/java/io/github/idempotency/sample/PaymentControllerSliceTests.java")))
			.contains("import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;");
	}

}
