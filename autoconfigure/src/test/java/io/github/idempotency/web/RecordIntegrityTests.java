package io.github.idempotency.web;

import java.net.http.HttpResponse;
import java.time.Duration;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.web.app.TestApplication;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a replay sends is data read back from Redis, which anything can write: header
 * values cannot become headers, headers outside the replayed set are never sent, and a
 * record that is not a valid response is never sent at all.
 */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "idempotency.key-prefix=integrity-test")
@ExtendWith(OutputCaptureExtension.class)
class RecordIntegrityTests extends AbstractWebTests {

	private static final String ORDER = "{\"item\":\"book\",\"quantity\":2}";

	@Autowired
	private StringRedisTemplate redis;

	@Autowired
	private MeterRegistry meters;

	@Test
	void storedHeaderOutsideTheReplayedSetShouldNotBeReplayed() {
		this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		rewriteHeaders("Set-Cookie: session=planted\r\nX-Planted: yes\r\nLocation: /orders/planted\r\n");

		HttpResponse<byte[]> retry = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();

		assertThat(retry.statusCode()).isEqualTo(201);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.headers().allValues("Set-Cookie")).isEmpty();
		assertThat(retry.headers().allValues("X-Planted")).isEmpty();
		assertThat(retry.headers().firstValue("Location")).hasValue("/orders/planted");
	}

	@ParameterizedTest
	@ValueSource(strings = { "0", "99", "600", "99999", "-1", "x" })
	void recordWithStatusHttpCannotSendShouldGet503AndStayUntouched(String status, CapturedOutput output)
			throws Exception {
		this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		String corrupt = rewriteStatus(status);
		double before = unreadableCount();

		HttpResponse<byte[]> retry = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();

		assertThat(retry.statusCode()).isEqualTo(503);
		assertThat(new ObjectMapper().readTree(retry.body()).get("code").asText())
			.isEqualTo("idempotency-store-unavailable");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
		assertThat(this.redis.opsForValue().get(recordName())).isEqualTo(corrupt);
		assertThat(unreadableCount()).isEqualTo(before + 1);
		assertThat(output).contains(recordName() + " cannot be read");
	}

	@Test
	void recordWithHeaderBlockThatIsNotHeaderLinesShouldGet503() {
		this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		rewriteHeaders("Location /no-colon\r\n");

		HttpResponse<byte[]> retry = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();

		assertThat(retry.statusCode()).isEqualTo(503);
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void recordWhoseHeaderLengthPointsPastItsEndShouldGet503() {
		this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		String record = this.redis.opsForValue().get(recordName());
		String[] fields = firstLine(record);
		fields[7] = String.valueOf(record.length() * 2);
		replaceFirstLine(record, String.join(" ", fields));

		HttpResponse<byte[]> retry = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();

		assertThat(retry.statusCode()).isEqualTo(503);
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	private double unreadableCount() {
		var counter = this.meters.find("idempotency.requests").tag("outcome", "unreadable_record").counter();
		return (counter != null) ? counter.count() : 0;
	}

	private String recordName() {
		return "integrity-test:{" + Hashing.recordKey("POST /orders", this.key) + "}";
	}

	private String rewriteStatus(String status) {
		String record = this.redis.opsForValue().get(recordName());
		String[] fields = firstLine(record);
		fields[6] = status;
		return replaceFirstLine(record, String.join(" ", fields));
	}

	// The record's text after its first line is headers then body; the ASCII test
	// bodies keep character and byte counts equal.
	private void rewriteHeaders(String headers) {
		String record = this.redis.opsForValue().get(recordName());
		String[] fields = firstLine(record);
		int bodyStart = record.indexOf('\n') + 1 + Integer.parseInt(fields[7]);
		fields[7] = String.valueOf(headers.length());
		String rewritten = String.join(" ", fields) + "\n" + headers + record.substring(bodyStart);
		this.redis.opsForValue().set(recordName(), rewritten, Duration.ofMinutes(1));
	}

	private static String[] firstLine(String record) {
		return record.substring(0, record.indexOf('\n')).split(" ");
	}

	private String replaceFirstLine(String record, String line) {
		String rewritten = line + record.substring(record.indexOf('\n'));
		this.redis.opsForValue().set(recordName(), rewritten, Duration.ofMinutes(1));
		return rewritten;
	}

}
