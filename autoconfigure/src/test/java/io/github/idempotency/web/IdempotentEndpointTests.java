package io.github.idempotency.web;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.web.app.TestApplication;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.http.HttpHeaders;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every behaviour of an idempotent endpoint, over real HTTP against a started server and
 * a real Redis.
 */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=endpoint-test", "idempotency.max-body-size=16KB",
				"idempotency.max-response-size=64KB" })
@ExtendWith(OutputCaptureExtension.class)
class IdempotentEndpointTests extends AbstractWebTests {

	private static final String ORDER = "{\"item\":\"book\",\"quantity\":2}";

	private final ObjectMapper json = new ObjectMapper();

	@Autowired
	private StringRedisTemplate redis;

	// Spring Security wraps the response again on the forward, in front of the starter's
	// filter: Tomcat 11 finishes the response as the forward returns.
	@Test
	void forwardThroughSpringSecurityShouldBeSentAndStored() {
		HttpResponse<byte[]> first = this.http.post("/orders/forwarding").key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/forwarding").key(this.key).name(this.key).send();

		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(TestHttp.text(first)).startsWith("{\"receipt\":");
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void idempotentServiceCalledFromIdempotentHandlerShouldKeepItsOwnRecord() {
		String item = "{\"item\":\"receipt-" + this.key + "\",\"quantity\":1}";
		HttpResponse<byte[]> first = this.http.post("/orders/with-receipt")
			.key(this.key)
			.name(this.key)
			.json(item)
			.send();
		HttpResponse<byte[]> retry = this.http.post("/orders/with-receipt")
			.key(this.key)
			.name(this.key)
			.json(item)
			.send();
		assertThat(text(first)).isEqualTo("order 1, receipt 1");
		assertThat(text(retry)).isEqualTo(text(first));
		// A new request for the same item: the handler runs again, the service replays
		// its own record.
		HttpResponse<byte[]> another = this.http.post("/orders/with-receipt")
			.key(this.key + "-2")
			.name(this.key)
			.json(item)
			.send();
		assertThat(text(another)).isEqualTo("order 2, receipt 1");
		assertThat(this.executions.count("receipt-" + this.key)).isOne();
	}

	@Test
	void retryShouldReplayStatusHeadersAndBodyWithoutRunningAgain() {
		HttpResponse<byte[]> first = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> retry = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();

		assertThat(first.statusCode()).isEqualTo(201);
		assertThat(first.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(retry.statusCode()).isEqualTo(201);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(retry.headers().firstValue("Location")).isEqualTo(first.headers().firstValue("Location"))
			.isPresent();
		assertThat(retry.headers().firstValue("Content-Type")).isEqualTo(first.headers().firstValue("Content-Type"))
			.hasValueSatisfying((type) -> assertThat(type).startsWith("application/json"));
		assertThat(retry.headers().firstValue("Content-Length")).hasValue(String.valueOf(first.body().length));
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void replayShouldNotCarryCookiesOrHeadersOutsideTheReplayedSet() {
		HttpResponse<byte[]> first = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> retry = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();

		assertThat(first.headers().firstValue("Set-Cookie")).isPresent();
		assertThat(first.headers().firstValue("X-Trace")).isPresent();
		assertThat(retry.headers().firstValue("Set-Cookie")).isEmpty();
		assertThat(retry.headers().firstValue("X-Trace")).isEmpty();
	}

	@Test
	void retryWithReorderedJsonShouldReplay() {
		HttpResponse<byte[]> first = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> retry = this.http.post("/orders")
			.key(this.key)
			.name(this.key)
			.json("{ \"quantity\" : 2,\n  \"item\" : \"book\" }")
			.send();

		assertThat(retry.statusCode()).isEqualTo(201);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void retryWithOtherPayloadShouldGet422Problem() throws Exception {
		this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> reuse = this.http.post("/orders")
			.key(this.key)
			.name(this.key)
			.json("{\"item\":\"book\",\"quantity\":3}")
			.send();

		assertProblem(reuse, 422, "idempotency-key-mismatch");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void loneSurrogateAndQuestionMarkShouldBeDifferentPayloads() throws Exception {
		this.http.post("/orders").key(this.key).name(this.key).json("{\"item\":\"\\ud800\",\"quantity\":1}").send();
		HttpResponse<byte[]> other = this.http.post("/orders")
			.key(this.key)
			.name(this.key)
			.json("{\"item\":\"?\",\"quantity\":1}")
			.send();

		assertProblem(other, 422, "idempotency-key-mismatch");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void handlerItsProxyCannotInterceptShouldBeRefusedNotRunUnprotected() throws Exception {
		HttpResponse<byte[]> response = this.http.post("/lazy-final").key(this.key).name(this.key).send();

		assertProblem(response, 503, "idempotency-not-protected");
		assertThat(this.executions.count(this.key)).isZero();
	}

	@Test
	void quotedAndBareFormsOfOneKeyShouldBeTheSameKey() {
		this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> quoted = this.http.post("/orders")
			.key("\"" + this.key + "\"")
			.name(this.key)
			.json(ORDER)
			.send();

		assertThat(quoted.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void requestWithoutKeyShouldGet400ProblemAndNotRun() throws Exception {
		HttpResponse<byte[]> response = this.http.post("/orders").name(this.key).json(ORDER).send();

		assertProblem(response, 400, "idempotency-key-missing");
		assertThat(this.executions.count(this.key)).isZero();
	}

	@Test
	void invalidKeysShouldGet400ProblemAndNotRun() throws Exception {
		for (String invalid : List.of("\"\"", "x".repeat(256), "a\tb", "two words", "\"unterminated", "a,b")) {
			HttpResponse<byte[]> response = this.http.post("/orders").key(invalid).name(this.key).json(ORDER).send();
			assertProblem(response, 400, "idempotency-key-invalid");
		}
		assertThat(this.executions.count(this.key)).isZero();
	}

	@Test
	void keyOfMaximumLengthShouldBeAccepted() {
		HttpResponse<byte[]> response = this.http.post("/orders")
			.key("k".repeat(219) + this.key)
			.name(this.key)
			.json(ORDER)
			.send();
		assertThat(response.statusCode()).isEqualTo(201);
	}

	@Test
	void twoKeyHeadersShouldGet400Problem() throws Exception {
		HttpResponse<byte[]> response = this.http.post("/orders")
			.key(this.key)
			.key(this.key + "-other")
			.name(this.key)
			.json(ORDER)
			.send();
		assertProblem(response, 400, "idempotency-key-invalid");
		assertThat(this.executions.count(this.key)).isZero();
	}

	@Test
	void concurrentDuplicatesShouldRunHandlerExactlyOnce() throws Exception {
		int clients = 50;
		ExecutorService executor = Executors.newFixedThreadPool(clients);
		try {
			CountDownLatch start = new CountDownLatch(1);
			List<Future<HttpResponse<byte[]>>> responses = new ArrayList<>();
			for (int i = 0; i < clients; i++) {
				responses.add(executor.submit(() -> {
					start.await();
					return this.http.post("/orders/slow")
						.key(this.key)
						.name(this.key)
						.header("X-Delay-Millis", "500")
						.json(ORDER)
						.send();
				}));
			}
			start.countDown();
			int ok = 0;
			int conflicts = 0;
			for (Future<HttpResponse<byte[]>> future : responses) {
				HttpResponse<byte[]> response = future.get(60, TimeUnit.SECONDS);
				if (response.statusCode() == 200) {
					ok++;
				}
				else {
					assertProblem(response, 409, "idempotency-request-in-progress");
					assertThat(response.headers().firstValue("Retry-After")).hasValue("1");
					conflicts++;
				}
			}
			assertThat(this.executions.count(this.key)).isEqualTo(1);
			assertThat(ok + conflicts).isEqualTo(clients);
			assertThat(ok).isGreaterThanOrEqualTo(1);
		}
		finally {
			executor.shutdownNow();
		}
	}

	@Test
	void otherPayloadWhileFirstIsInFlightShouldGet422NotConflict() throws Exception {
		ExecutorService executor = Executors.newSingleThreadExecutor();
		try {
			Future<HttpResponse<byte[]>> first = executor.submit(() -> this.http.post("/orders/slow")
				.key(this.key)
				.name(this.key)
				.header("X-Delay-Millis", "800")
				.json(ORDER)
				.send());
			awaitExecutions(this.key, 1);
			HttpResponse<byte[]> other = this.http.post("/orders/slow")
				.key(this.key)
				.name(this.key)
				.header("X-Delay-Millis", "800")
				.json("{\"item\":\"pen\",\"quantity\":1}")
				.send();
			assertProblem(other, 422, "idempotency-key-mismatch");
			assertThat(first.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
			assertThat(this.executions.count(this.key)).isEqualTo(1);
		}
		finally {
			executor.shutdownNow();
		}
	}

	@Test
	void handlerExceptionShouldReleaseKeySoRetryRunsAgain() {
		HttpResponse<byte[]> first = this.http.post("/orders/failing").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/failing").key(this.key).name(this.key).json(ORDER).send();

		assertThat(first.statusCode()).isEqualTo(500);
		assertThat(retry.statusCode()).isEqualTo(200);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(this.executions.count(this.key)).isEqualTo(2);
	}

	@Test
	void serverErrorResponseShouldReleaseKeySoRetryRunsAgain() {
		HttpResponse<byte[]> first = this.http.post("/orders/unavailable").key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/unavailable").key(this.key).name(this.key).send();

		assertThat(first.statusCode()).isEqualTo(503);
		assertThat(TestHttp.text(retry)).isEqualTo("run 2");
	}

	@Test
	void clientErrorFromExceptionHandlerShouldBeStoredAndReplayed() {
		HttpResponse<byte[]> first = this.http.post("/orders/declined").key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/declined").key(this.key).name(this.key).send();

		assertThat(first.statusCode()).isEqualTo(402);
		assertThat(retry.statusCode()).isEqualTo(402);
		assertThat(TestHttp.text(retry)).isEqualTo("declined on run 1");
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	// Spring's test for a client that went away looks at names and messages only: a
	// downstream service's lost connection looks the same, but the body was held back,
	// so no client went away.
	@ParameterizedTest
	@ValueSource(strings = { "eof", "reset" })
	void clientErrorFromAHandlerWhoseDownstreamConnectionFailedShouldBeStoredAndReplayed(String failure) {
		HttpResponse<byte[]> first = this.http.post("/orders/declined-downstream")
			.key(this.key)
			.name(this.key)
			.header("X-Downstream-Failure", failure)
			.send();
		HttpResponse<byte[]> retry = this.http.post("/orders/declined-downstream")
			.key(this.key)
			.name(this.key)
			.header("X-Downstream-Failure", failure)
			.send();

		assertThat(first.statusCode()).isEqualTo(402);
		assertThat(retry.statusCode()).isEqualTo(402);
		assertThat(TestHttp.text(retry)).isEqualTo("declined on run 1");
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void tooManyRequestsShouldNotBeStored() {
		this.http.post("/orders/too-many").key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/too-many").key(this.key).name(this.key).send();

		assertThat(retry.statusCode()).isEqualTo(429);
		assertThat(this.executions.count(this.key)).isEqualTo(2);
	}

	@Test
	void clientErrorSentToTheContainerErrorPageShouldBeStoredAsThePageRendersIt() {
		HttpResponse<byte[]> first = this.http.post("/orders/send-error").key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/send-error").key(this.key).name(this.key).send();

		assertThat(first.statusCode()).isEqualTo(404);
		// Spring Boot's error page, rendered after the handler returned.
		assertThat(TestHttp.text(first)).contains("\"path\":\"/orders/send-error\"");
		assertThat(retry.statusCode()).isEqualTo(404);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.headers().firstValue("Content-Type")).isEqualTo(first.headers().firstValue("Content-Type"));
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void serverErrorSentToTheContainerErrorPageShouldReleaseTheKey() {
		HttpResponse<byte[]> first = this.http.post("/orders/send-error")
			.key(this.key)
			.name(this.key)
			.header("X-Status", "503")
			.send();
		HttpResponse<byte[]> retry = this.http.post("/orders/send-error")
			.key(this.key)
			.name(this.key)
			.header("X-Status", "503")
			.send();

		assertThat(first.statusCode()).isEqualTo(503);
		assertThat(TestHttp.text(first)).contains("\"path\":\"/orders/send-error\"");
		assertThat(retry.statusCode()).isEqualTo(503);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(this.executions.count(this.key)).isEqualTo(2);
	}

	@Test
	void validationFailureShouldNotClaimKeySoCorrectedRequestRuns() {
		HttpResponse<byte[]> invalid = this.http.post("/orders")
			.key(this.key)
			.name(this.key)
			.json("{\"item\":\"\",\"quantity\":0}")
			.send();
		HttpResponse<byte[]> corrected = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();

		assertThat(invalid.statusCode()).isEqualTo(400);
		assertThat(corrected.statusCode()).isEqualTo(201);
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	// The handler answers the errors itself, under its claim: its answer is stored like
	// any 4xx.
	@Test
	void validationFailureAHandlerAnswersItselfShouldBeStoredSoCorrectedRequestNeedsANewKey() {
		HttpResponse<byte[]> invalid = this.http.post("/orders/checked")
			.key(this.key)
			.name(this.key)
			.json("{\"item\":\"\",\"quantity\":0}")
			.send();
		HttpResponse<byte[]> corrected = this.http.post("/orders/checked")
			.key(this.key)
			.name(this.key)
			.json(ORDER)
			.send();
		HttpResponse<byte[]> withNewKey = this.http.post("/orders/checked")
			.key(this.key + "-2")
			.name(this.key)
			.json(ORDER)
			.send();

		assertThat(invalid.statusCode()).isEqualTo(400);
		assertThat(TestHttp.text(invalid)).isEqualTo("invalid on run 1");
		assertThat(corrected.statusCode()).isEqualTo(422);
		assertThat(withNewKey.statusCode()).isEqualTo(200);
		assertThat(this.executions.count(this.key)).isEqualTo(2);
	}

	@Test
	void responseStatusAnnotationShouldBeReplayed() {
		HttpResponse<byte[]> first = this.http.post("/orders/accepted").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/accepted").key(this.key).name(this.key).json(ORDER).send();

		assertThat(first.statusCode()).isEqualTo(202);
		assertThat(retry.statusCode()).isEqualTo(202);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void voidHandlerShouldBeReplayedAsEmptyResponse() {
		HttpResponse<byte[]> first = this.http.post("/orders/void").key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/void").key(this.key).name(this.key).send();

		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(retry.statusCode()).isEqualTo(200);
		assertThat(retry.body()).isEmpty();
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void keyExpressionThatFailsForEveryRequestShouldBeToldOfOnce(CapturedOutput output) throws Exception {
		String order = "{\"item\":\"book\",\"quantity\":1}";
		HttpResponse<byte[]> first = this.http.post("/orders/misspelt-key").name(this.key).json(order).send();
		HttpResponse<byte[]> second = this.http.post("/orders/misspelt-key").name(this.key).json(order).send();

		assertProblem(first, 400, "idempotency-key-missing");
		assertProblem(second, 400, "idempotency-key-missing");
		assertThat(this.executions.count(this.key)).isZero();
		assertThat(output.getAll().split("its key expression '#request.itme' failed", -1)).hasSize(2);
	}

	@Test
	void keyFromBodyExpressionShouldIdentifyRetries() throws Exception {
		String item = "item-" + this.key;
		String order = "{\"item\":\"" + item + "\",\"quantity\":1}";
		HttpResponse<byte[]> first = this.http.post("/orders/body-key").name(this.key).json(order).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/body-key").name(this.key).json(order).send();
		HttpResponse<byte[]> missing = this.http.post("/orders/body-key")
			.name(this.key)
			.json("{\"quantity\":1}")
			.send();

		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertProblem(missing, 400, "idempotency-key-missing");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void keyExpressionCombiningTenantAndHeaderShouldSeparateTenants() {
		HttpResponse<byte[]> first = this.http.post("/orders/tenant")
			.key(this.key)
			.header("X-Tenant-Id", "acme")
			.name(this.key)
			.json(ORDER)
			.send();
		HttpResponse<byte[]> otherTenant = this.http.post("/orders/tenant")
			.key(this.key)
			.header("X-Tenant-Id", "globex")
			.name(this.key)
			.json(ORDER)
			.send();
		HttpResponse<byte[]> retry = this.http.post("/orders/tenant")
			.key(this.key)
			.header("X-Tenant-Id", "acme")
			.name(this.key)
			.json(ORDER)
			.send();

		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(otherTenant.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isEqualTo(2);
	}

	@Test
	void sameKeyFromTwoUsersShouldBeTwoOperationsThatNeverReplayAcrossUsers() throws Exception {
		HttpResponse<byte[]> alice = this.http.post("/orders")
			.basic("alice", "alice-secret")
			.key(this.key)
			.name(this.key)
			.json(ORDER)
			.send();
		HttpResponse<byte[]> bob = this.http.post("/orders")
			.basic("bob", "bob-secret")
			.key(this.key)
			.name(this.key)
			.json(ORDER)
			.send();
		HttpResponse<byte[]> anonymous = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> bobAgain = this.http.post("/orders")
			.basic("bob", "bob-secret")
			.key(this.key)
			.name(this.key)
			.json(ORDER)
			.send();

		assertThat(alice.statusCode()).isEqualTo(201);
		assertThat(bob.statusCode()).isEqualTo(201);
		assertThat(bob.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(bob.body()).isNotEqualTo(alice.body());
		assertThat(anonymous.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(bobAgain.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(bobAgain.body()).isEqualTo(bob.body());
		assertThat(this.executions.count(this.key)).isEqualTo(3);
	}

	@Test
	void failedAuthenticationShouldNotReachHandlerOrStoreAnything() {
		HttpResponse<byte[]> rejected = this.http.post("/orders")
			.basic("alice", "wrong")
			.key(this.key)
			.name(this.key)
			.json(ORDER)
			.send();
		HttpResponse<byte[]> authenticated = this.http.post("/orders")
			.basic("alice", "alice-secret")
			.key(this.key)
			.name(this.key)
			.json(ORDER)
			.send();

		assertThat(rejected.statusCode()).isEqualTo(401);
		assertThat(authenticated.statusCode()).isEqualTo(201);
		assertThat(authenticated.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void replayShouldNotDuplicateHeadersThatFiltersAlsoWrite() {
		this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> retry = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();

		assertThat(retry.headers().allValues("Link")).containsExactly("</docs>; rel=\"help\"");
	}

	@Test
	void replayShouldKeepEveryValueOfRepeatedHeader() {
		HttpResponse<byte[]> first = this.http.post("/orders/linked").key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/linked").key(this.key).name(this.key).send();

		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		// Spring Framework 6 adds these to the filter's Link, 7 replaces it: either way
		// the
		// retry must get what the first request got.
		assertThat(first.headers().allValues("Link")).contains("</orders?page=2>; rel=\"next\"",
				"</orders?page=0>; rel=\"prev\"");
		assertThat(retry.headers().allValues("Link"))
			.containsExactlyInAnyOrderElementsOf(first.headers().allValues("Link"));
	}

	@Test
	void optionalKeyWhenAbsentShouldRunEveryTime() {
		HttpResponse<byte[]> first = this.http.post("/orders/optional").name(this.key).json(ORDER).send();
		HttpResponse<byte[]> second = this.http.post("/orders/optional").name(this.key).json(ORDER).send();
		HttpResponse<byte[]> keyed = this.http.post("/orders/optional").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> keyedRetry = this.http.post("/orders/optional")
			.key(this.key)
			.name(this.key)
			.json(ORDER)
			.send();

		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(second.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(keyed.statusCode()).isEqualTo(200);
		assertThat(keyedRetry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isEqualTo(3);
	}

	@Test
	void customHeaderNameShouldCarryKey() throws Exception {
		HttpResponse<byte[]> first = this.http.post("/orders/custom-header")
			.header("X-Request-Id", this.key)
			.name(this.key)
			.json(ORDER)
			.send();
		HttpResponse<byte[]> retry = this.http.post("/orders/custom-header")
			.header("X-Request-Id", this.key)
			.name(this.key)
			.json(ORDER)
			.send();
		HttpResponse<byte[]> defaultHeaderOnly = this.http.post("/orders/custom-header")
			.key(this.key)
			.name(this.key)
			.json(ORDER)
			.send();

		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertProblem(defaultHeaderOnly, 400, "idempotency-key-missing");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void sameKeyOnTwoEndpointsShouldBeTwoOperations() {
		this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> other = this.http.post("/orders/accepted").key(this.key).name(this.key).json(ORDER).send();

		assertThat(other.statusCode()).isEqualTo(202);
		assertThat(other.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(this.executions.count(this.key)).isEqualTo(2);
	}

	@Test
	void sameKeyWithOtherPathVariableShouldBeRefused() throws Exception {
		this.http.post("/orders/north/items").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> other = this.http.post("/orders/south/items")
			.key(this.key)
			.name(this.key)
			.json(ORDER)
			.send();

		assertProblem(other, 422, "idempotency-key-mismatch");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void classLevelAnnotationShouldCoverEveryHandler() {
		this.http.post("/class-level/first").key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post("/class-level/first").key(this.key).name(this.key).send();
		HttpResponse<byte[]> missing = this.http.post("/class-level/second").name(this.key).send();

		assertThat(TestHttp.text(retry)).isEqualTo("first run 1");
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(missing.statusCode()).isEqualTo(400);
	}

	@Test
	void annotationOnTheMethodShouldHoldForPut() throws Exception {
		this.http.put("/orders/put").key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.put("/orders/put").key(this.key).name(this.key).send();
		HttpResponse<byte[]> withoutKey = this.http.put("/orders/put").name(this.key).send();

		assertThat(TestHttp.text(retry)).isEqualTo("run 1");
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertProblem(withoutKey, 400, "idempotency-key-missing");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void annotationOnTheMethodShouldHoldForDelete() throws Exception {
		this.http.delete("/orders/7").key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.delete("/orders/7").key(this.key).name(this.key).send();
		HttpResponse<byte[]> withoutKey = this.http.delete("/orders/7").name(this.key).send();

		assertThat(TestHttp.text(retry)).isEqualTo("deleted 7, run 1");
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertProblem(withoutKey, 400, "idempotency-key-missing");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void annotationOnTheClassShouldNotCoverMethodsOutsideTheConfiguredOnes() {
		this.http.put("/class-level/put").key(this.key).name(this.key).send();
		HttpResponse<byte[]> second = this.http.put("/class-level/put").key(this.key).name(this.key).send();
		HttpResponse<byte[]> withoutKey = this.http.put("/class-level/put").name(this.key).send();

		assertThat(TestHttp.text(second)).isEqualTo("put run 2");
		HttpResponse<byte[]> classMapped = this.http.put("/class-put/item").key(this.key).name(this.key).send();
		assertThat(TestHttp.text(classMapped)).isEqualTo("item run 4");
		assertThat(second.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(withoutKey.statusCode()).isEqualTo(200);
		// The application started with these handlers, which the starter's checks
		// would refuse for an idempotent handler.
		assertThat(TestHttp.text(this.http.get("/class-level/read").send())).isEqualTo("read");
		assertThat(this.http.get("/class-level/events").send().statusCode()).isEqualTo(200);
	}

	@Test
	void actuatorEndpointShouldNotBeExposedUnlessConfigured() {
		// A record that exists, so that an exposed endpoint would answer 200 rather than
		// 404.
		this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		String recordKey = Hashing.recordKey("POST /orders", this.key);
		HttpResponse<byte[]> response = this.http.get("/actuator/idempotency/" + recordKey).send();
		assertThat(response.statusCode()).isEqualTo(404);
	}

	@Test
	void recordOfAnotherMajorFormatShouldGive503AndStayUntouched() throws Exception {
		String recordName = "endpoint-test:{" + Hashing.recordKey("POST /orders", this.key) + "}";
		this.redis.opsForValue().set(recordName, "2 completed whatever - 1 2 200 0\n{}");
		this.redis.expire(recordName, Duration.ofMinutes(1));
		HttpResponse<byte[]> response = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();

		assertProblem(response, 503, "idempotency-store-unavailable");
		assertThat(this.executions.count(this.key)).isZero();
		assertThat(this.redis.opsForValue().get(recordName)).startsWith("2 completed");
	}

	@Test
	void unannotatedEndpointShouldIgnoreKey() {
		this.http.post("/orders/unannotated").key(this.key).name(this.key).send();
		HttpResponse<byte[]> second = this.http.post("/orders/unannotated").key("\"bad").name(this.key).send();

		assertThat(TestHttp.text(second)).isEqualTo("run 2");
	}

	@Test
	void retryAfterRetentionShouldRunAgain() throws InterruptedException {
		this.http.post("/orders/short-ttl").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> replay = this.http.post("/orders/short-ttl")
			.key(this.key)
			.name(this.key)
			.json(ORDER)
			.send();
		Thread.sleep(1300);
		HttpResponse<byte[]> late = this.http.post("/orders/short-ttl").key(this.key).name(this.key).json(ORDER).send();

		assertThat(replay.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(late.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(this.executions.count(this.key)).isEqualTo(2);
	}

	@Test
	void handlerRunningPastLockTimeoutShouldKeepItsKey() throws Exception {
		ExecutorService executor = Executors.newSingleThreadExecutor();
		try {
			Future<HttpResponse<byte[]>> first = executor.submit(() -> this.http.post("/orders/short-lease")
				.key(this.key)
				.name(this.key)
				.header("X-Delay-Millis", "1500")
				.json(ORDER)
				.send());
			awaitExecutions(this.key, 1);
			Thread.sleep(800);
			HttpResponse<byte[]> duplicate = this.http.post("/orders/short-lease")
				.key(this.key)
				.name(this.key)
				.header("X-Delay-Millis", "0")
				.json(ORDER)
				.send();
			HttpResponse<byte[]> original = first.get(30, TimeUnit.SECONDS);
			HttpResponse<byte[]> replay = this.http.post("/orders/short-lease")
				.key(this.key)
				.name(this.key)
				.header("X-Delay-Millis", "0")
				.json(ORDER)
				.send();

			assertProblem(duplicate, 409, "idempotency-request-in-progress");
			assertThat(original.statusCode()).isEqualTo(200);
			assertThat(replay.body()).isEqualTo(original.body());
			assertThat(this.executions.count(this.key)).isEqualTo(1);
		}
		finally {
			executor.shutdownNow();
		}
	}

	@Test
	void responseAboveMaximumShouldBeSentInFullButNotStored() {
		int size = 70 * 1024;
		HttpResponse<byte[]> first = this.http.post("/orders/large?size=" + size).key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/large?size=" + size).key(this.key).name(this.key).send();

		assertThat(first.body()).hasSize(size);
		assertThat(retry.body()).hasSize(size);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(this.executions.count(this.key)).isEqualTo(2);
	}

	@Test
	void requestBodyAboveMaximumShouldGet413Problem() throws Exception {
		// Refused on its Content-Length, before a byte of the body is read, so the body
		// is never sent: a client still writing it can lose the answer when the server
		// closes the connection it will not read to the end (seen once on Jetty 12.1).
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			socket.setSoTimeout(10_000);
			socket.getOutputStream()
				.write(("POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
						+ "Content-Length: " + (17 * 1024) + "\r\nIdempotency-Key: " + this.key + "\r\nX-Test-Name: "
						+ this.key + "\r\n\r\n")
					.getBytes(StandardCharsets.US_ASCII));
			DataInputStream answer = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
			assertThat(line(answer)).startsWith("HTTP/1.1 413");
			HttpHeaders headers = new HttpHeaders();
			for (String header = line(answer); !header.isEmpty(); header = line(answer)) {
				headers.add(header.substring(0, header.indexOf(':')), header.substring(header.indexOf(':') + 1).trim());
			}
			assertThat(headers.getFirst("Content-Type")).isEqualTo("application/problem+json");
			// The answer's length, or the length of its one chunk.
			int length = (headers.getContentLength() >= 0) ? (int) headers.getContentLength()
					: Integer.parseInt(line(answer), 16);
			JsonNode problem = this.json.readTree(answer.readNBytes(length));
			assertThat(problem.get("type").asText())
				.isEqualTo("urn:problem-type:idempotency:idempotency-request-too-large");
			assertThat(problem.get("status").asInt()).isEqualTo(413);
		}
		assertThat(this.executions.count(this.key)).isZero();
	}

	private static String line(DataInputStream input) throws IOException {
		StringBuilder line = new StringBuilder();
		for (int b = input.read(); b != '\n'; b = input.read()) {
			assertThat(b).as("end of the answer").isNotEqualTo(-1);
			if (b != '\r') {
				line.append((char) b);
			}
		}
		return line.toString();
	}

	@Test
	void formDataShouldReachHandlerAndBeFingerprinted() throws Exception {
		HttpResponse<byte[]> first = this.http.post("/orders/form")
			.key(this.key)
			.name(this.key)
			.form("item=pen")
			.send();
		HttpResponse<byte[]> retry = this.http.post("/orders/form")
			.key(this.key)
			.name(this.key)
			.form("item=pen")
			.send();
		HttpResponse<byte[]> other = this.http.post("/orders/form")
			.key(this.key)
			.name(this.key)
			.form("item=ink")
			.send();

		assertThat(TestHttp.text(first)).isEqualTo("pen run 1");
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertProblem(other, 422, "idempotency-key-mismatch");
	}

	@Test
	void callableHandlerShouldBeStoredWhenAsyncProcessingEnds() {
		HttpResponse<byte[]> first = this.http.post("/orders/callable").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/callable").key(this.key).name(this.key).json(ORDER).send();

		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(retry.statusCode()).isEqualTo(200);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void deferredResultHandlerShouldBeStoredWhenAsyncProcessingEnds() {
		HttpResponse<byte[]> first = this.http.post("/orders/deferred").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/deferred").key(this.key).name(this.key).json(ORDER).send();

		assertThat(first.statusCode()).isEqualTo(201);
		assertThat(retry.statusCode()).isEqualTo(201);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(retry.headers().firstValue("Location")).isEqualTo(first.headers().firstValue("Location"));
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void asyncFailureShouldReleaseKey() {
		HttpResponse<byte[]> first = this.http.post("/orders/deferred-failure").key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/deferred-failure").key(this.key).name(this.key).send();

		assertThat(first.statusCode()).isEqualTo(500);
		assertThat(TestHttp.text(retry)).isEqualTo("run 2");
	}

	private void assertProblem(HttpResponse<byte[]> response, int status, String code) throws Exception {
		assertThat(response.statusCode()).as(TestHttp.text(response)).isEqualTo(status);
		assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
		JsonNode problem = this.json.readTree(response.body());
		assertThat(problem.get("type").asText()).isEqualTo("urn:problem-type:idempotency:" + code);
		assertThat(problem.get("code").asText()).isEqualTo(code);
		assertThat(problem.get("status").asInt()).isEqualTo(status);
		assertThat(problem.get("title").asText()).isNotBlank();
		assertThat(problem.get("detail").asText()).isNotBlank();
		assertThat(problem.has("trace")).isFalse();
	}

	private static String text(HttpResponse<byte[]> response) {
		return new String(response.body(), java.nio.charset.StandardCharsets.UTF_8);
	}

}
