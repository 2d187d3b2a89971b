package io.github.idempotency.web;

import java.net.http.HttpResponse;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.test.RedisTestServer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurationSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application that configures Spring MVC by extending
 * {@code WebMvcConfigurationSupport}, whose handler mappings take no
 * {@code WebMvcConfigurer}'s interceptors, the starter's included: its idempotent handler
 * is refused with a 503 problem rather than run unprotected, until the application adds
 * the starter's interceptor to its own.
 */
class WebMvcConfigurationSupportTests {

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
	}

	@Nested
	@SpringBootTest(classes = { ChargeApplication.class, WithoutTheInterceptor.class },
			webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
			properties = "idempotency.key-prefix=mvc-support-test")
	class WithoutTheStartersInterceptor {

		@LocalServerPort
		int port;

		@Autowired
		ChargeController charges;

		@Test
		void idempotentHandlerShouldBeRefusedNotRunUnprotected() {
			TestHttp http = new TestHttp(this.port);
			String key = UUID.randomUUID().toString();
			HttpResponse<byte[]> first = http.post("/charges").key(key).json("{\"amount\":5}").send();
			HttpResponse<byte[]> retry = http.post("/charges").key(key).json("{\"amount\":5}").send();

			assertThat(first.statusCode()).isEqualTo(503);
			assertThat(TestHttp.text(first)).contains("idempotency-not-protected");
			assertThat(retry.statusCode()).isEqualTo(503);
			assertThat(this.charges.runs(key)).isZero();
		}

		// An idempotent bean method that an ordinary handler on the same route calls goes
		// the method path's way, though it has the handler's name and parameters.
		@Test
		void idempotentMethodAnOrdinaryHandlerCallsShouldBeProtected() {
			TestHttp http = new TestHttp(this.port);
			String key = UUID.randomUUID().toString();
			HttpResponse<byte[]> first = http.post("/charges?preview").key(key).json("{\"amount\":5}").send();
			HttpResponse<byte[]> retry = http.post("/charges?preview").key(key).json("{\"amount\":5}").send();

			assertThat(first.statusCode()).isEqualTo(200);
			assertThat(TestHttp.text(first)).isEqualTo("quote 1");
			assertThat(TestHttp.text(retry)).isEqualTo("quote 1");
		}

	}

	@Nested
	@SpringBootTest(classes = { ChargeApplication.class, WithTheInterceptor.class },
			webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
			properties = "idempotency.key-prefix=mvc-support-test")
	class WithTheStartersInterceptorAdded {

		@LocalServerPort
		int port;

		@Autowired
		ChargeController charges;

		@Test
		void retryShouldBeReplayed() {
			TestHttp http = new TestHttp(this.port);
			String key = UUID.randomUUID().toString();
			HttpResponse<byte[]> first = http.post("/charges").key(key).json("{\"amount\":5}").send();
			HttpResponse<byte[]> retry = http.post("/charges").key(key).json("{\"amount\":5}").send();

			assertThat(first.statusCode()).isEqualTo(200);
			assertThat(retry.statusCode()).isEqualTo(200);
			assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
			assertThat(retry.body()).isEqualTo(first.body());
			assertThat(this.charges.runs(key)).isOne();
		}

	}

	// Without Spring Security, which would answer 401 before the starter is reached.
	@SpringBootConfiguration
	@EnableAutoConfiguration(excludeName = {
			"org.springframework.boot.autoconfigure.security.servlet.SecurityAutoConfiguration",
			"org.springframework.boot.autoconfigure.security.servlet.SecurityFilterAutoConfiguration",
			"org.springframework.boot.autoconfigure.security.servlet.UserDetailsServiceAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.security.servlet.ManagementWebSecurityAutoConfiguration",
			"org.springframework.boot.security.autoconfigure.SecurityAutoConfiguration",
			"org.springframework.boot.security.autoconfigure.UserDetailsServiceAutoConfiguration",
			"org.springframework.boot.security.autoconfigure.web.servlet.SecurityFilterAutoConfiguration",
			"org.springframework.boot.security.autoconfigure.web.servlet.ServletWebSecurityAutoConfiguration",
			"org.springframework.boot.security.autoconfigure.actuate.web.servlet.ManagementWebSecurityAutoConfiguration" })
	@Import({ ChargeController.class, Quotes.class })
	static class ChargeApplication {

	}

	@Configuration(proxyBeanMethods = false)
	static class WithoutTheInterceptor extends WebMvcConfigurationSupport {

	}

	@Configuration(proxyBeanMethods = false)
	static class WithTheInterceptor extends WebMvcConfigurationSupport {

		@Autowired
		IdempotentHandlerInterceptor idempotentHandlerInterceptor;

		@Override
		protected void addInterceptors(InterceptorRegistry registry) {
			registry.addInterceptor(this.idempotentHandlerInterceptor);
		}

	}

	@RestController
	static class ChargeController {

		private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();

		private final Quotes quotes;

		ChargeController(Quotes quotes) {
			this.quotes = quotes;
		}

		@PostMapping(path = "/charges", params = "preview")
		public String quote(@RequestBody String body, @RequestHeader("Idempotency-Key") String key) {
			return this.quotes.quote(body, key);
		}

		@Idempotent
		@PostMapping("/charges")
		public String charge(@RequestBody String body, @RequestHeader("Idempotency-Key") String key) {
			return "charge " + this.runs.computeIfAbsent(key, (ignored) -> new AtomicInteger()).incrementAndGet();
		}

		public int runs(String key) {
			AtomicInteger count = this.runs.get(key);
			return (count != null) ? count.get() : 0;
		}

	}

	static class Quotes {

		private final AtomicInteger runs = new AtomicInteger();

		@Idempotent(key = "#key")
		public String quote(String body, String key) {
			return "quote " + this.runs.incrementAndGet();
		}

	}

}
