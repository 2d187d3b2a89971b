package io.github.idempotency.web;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;

import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.web.app.TestApplication;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A record written by a starter of another format major, met by an application that chose
 * {@code on-store-failure=proceed}: the request runs as if no record existed, and the
 * other version's record is left exactly as it was. The default policy's answer (503) is
 * tested in {@link IdempotentEndpointTests}.
 */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=format-test", "idempotency.on-store-failure=proceed" })
class RecordFormatProceedTests extends AbstractWebTests {

	private static final String ORDER = "{\"item\":\"book\",\"quantity\":2}";

	@Autowired
	private StringRedisTemplate redis;

	@Test
	void recordOfAnotherMajorFormatShouldBeTreatedAsAbsentAndStayUntouched() {
		String key = UUID.randomUUID().toString();
		String recordName = "format-test:{" + Hashing.recordKey("POST /orders", key) + "}";
		String foreign = "2 completed whatever - 1 2 200 0\n{}";
		this.redis.opsForValue().set(recordName, foreign);
		this.redis.expire(recordName, Duration.ofMinutes(1));
		TestHttp http = new TestHttp(this.port);

		HttpResponse<byte[]> first = http.post("/orders").key(key).name(key).json(ORDER).send();
		HttpResponse<byte[]> second = http.post("/orders").key(key).name(key).json(ORDER).send();

		assertThat(first.statusCode()).isEqualTo(201);
		assertThat(second.statusCode()).isEqualTo(201);
		assertThat(this.executions.count(key)).isEqualTo(2);
		assertThat(this.redis.opsForValue().get(recordName)).isEqualTo(foreign);
	}

}
