package io.github.idempotency.web;

import java.net.http.HttpResponse;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.idempotency.web.app.TestApplication;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Without lease renewal, a handler slower than its lock timeout loses its key: the next
 * request takes it over, and the slow request must then not overwrite what the new owner
 * stored.
 */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=lease-test", "idempotency.lock-renewal.enabled=false" })
class LeaseExpiryTests extends AbstractWebTests {

	private static final String ORDER = "{\"item\":\"book\",\"quantity\":2}";

	private final ObjectMapper json = new ObjectMapper();

	@Autowired
	private MeterRegistry registry;

	@Test
	void requestWhoseLeaseExpiredShouldNotOverwriteNewOwnersResponse() throws Exception {
		TestHttp http = new TestHttp(this.port);
		String key = UUID.randomUUID().toString();
		ExecutorService executor = Executors.newSingleThreadExecutor();
		try {
			Future<HttpResponse<byte[]>> stale = executor.submit(() -> http.post("/orders/short-lease")
				.key(key)
				.name(key)
				.header("X-Delay-Millis", "1200")
				.json(ORDER)
				.send());
			while (this.executions.count(key) == 0) {
				Thread.sleep(10);
			}
			Thread.sleep(600);
			HttpResponse<byte[]> takeover = http.post("/orders/short-lease")
				.key(key)
				.name(key)
				.header("X-Delay-Millis", "0")
				.json(ORDER)
				.send();
			HttpResponse<byte[]> staleResponse = stale.get(30, TimeUnit.SECONDS);
			HttpResponse<byte[]> replay = http.post("/orders/short-lease")
				.key(key)
				.name(key)
				.header("X-Delay-Millis", "0")
				.json(ORDER)
				.send();

			assertThat(staleResponse.statusCode()).isEqualTo(200);
			assertThat(takeover.statusCode()).isEqualTo(200);
			assertThat(this.json.readTree(takeover.body()).get("run").asInt()).isEqualTo(2);
			assertThat(replay.headers().firstValue("Idempotent-Replayed")).hasValue("true");
			assertThat(replay.body()).isEqualTo(takeover.body());
			assertThat(this.registry.get("idempotency.requests")
				.tag("operation", "POST /orders/short-lease")
				.tag("outcome", "lease_lost")
				.counter()
				.count()).isEqualTo(1);
		}
		finally {
			executor.shutdownNow();
		}
	}

}
