package io.github.idempotency.web;

import java.util.UUID;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.interceptor.IdempotencyOutcome;
import io.github.idempotency.test.RedisTestServer;
import io.github.idempotency.web.app.Executions;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.servlet.http.HttpServletResponse;
import org.junit.jupiter.api.BeforeEach;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What every web test of the test application shares: a started server on a random port,
 * the test Redis, the counter of real handler executions, a client, and a fresh key for
 * each test. Subclasses carry their own {@code @SpringBootTest} settings.
 */
abstract class AbstractWebTests {

	/**
	 * Whether this run is the one on Jetty (see {@link OtherServerTests}).
	 */
	protected static final boolean JETTY = "jetty".equals(System.getProperty("idempotency.test.server"));

	/**
	 * Whether this run is the one on Undertow, Spring Boot 3.5's third server (see
	 * {@link OtherServerTests}).
	 */
	protected static final boolean UNDERTOW = "undertow".equals(System.getProperty("idempotency.test.server"));

	/**
	 * Whether this run is the one on virtual threads (see {@link VirtualThreadTests}).
	 */
	protected static final boolean VIRTUAL_THREADS = "virtual".equals(System.getProperty("idempotency.test.threads"));

	@LocalServerPort
	protected int port;

	@Autowired
	protected Executions executions;

	protected TestHttp http;

	protected String key;

	@BeforeEach
	void newClientAndKey() {
		this.http = new TestHttp(this.port);
		this.key = UUID.randomUUID().toString();
	}

	/**
	 * Waits up to 10 s for a handler to have run the given number of times, and fails if
	 * it has not.
	 */
	protected void awaitExecutions(String name, int count) throws InterruptedException {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		while (this.executions.count(name) < count && System.nanoTime() < deadline) {
			Thread.sleep(10);
		}
		assertThat(this.executions.count(name)).isEqualTo(count);
	}

	/**
	 * Whether the Servlet API has the redirect overloads Servlet 6.1 added (Spring Boot
	 * 4's Tomcat 11 and Jetty 12.1).
	 */
	protected static boolean hasServlet61Redirects() {
		try {
			HttpServletResponse.class.getMethod("sendRedirect", String.class, int.class, boolean.class);
			return true;
		}
		catch (NoSuchMethodException ex) {
			return false;
		}
	}

	/**
	 * How many requests to the operation the starter refused as incomplete so far.
	 */
	protected static double incompleteCount(MeterRegistry registry, String operation) {
		Counter counter = registry.find("idempotency.requests")
			.tag("operation", operation)
			.tag("outcome", IdempotencyOutcome.INCOMPLETE.tagValue())
			.counter();
		return (counter != null) ? counter.count() : 0;
	}

	/**
	 * How many store calls of the kind ({@code claim}, {@code find}, ...) were timed so
	 * far.
	 */
	protected static long storeCallCount(MeterRegistry registry, String operation) {
		return registry.find("idempotency.store")
			.tag("operation", operation)
			.timers()
			.stream()
			.mapToLong(Timer::count)
			.sum();
	}

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
	}

}
