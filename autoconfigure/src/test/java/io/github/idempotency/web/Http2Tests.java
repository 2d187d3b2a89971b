package io.github.idempotency.web;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.web.app.TestApplication;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Requests over HTTP/2 in clear text (h2c), as a proxy or a service mesh sends them to an
 * application: many requests share one connection, each in a stream of its own, and a
 * client abandons one by resetting its stream rather than closing the connection.
 */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=http2-test", "server.http2.enabled=true" })
class Http2Tests extends AbstractWebTests {

	private static final String ORDER = "{\"item\":\"book\",\"quantity\":2}";

	@Autowired
	private MeterRegistry registry;

	@BeforeEach
	void upgradeTheConnection() {
		this.http = new TestHttp(this.port, HttpClient.Version.HTTP_2);
		// The client upgrades the first request of a connection; every later one is a
		// stream of that connection.
		assertThat(this.http.get("/orders/none").send().version()).isEqualTo(HttpClient.Version.HTTP_2);
	}

	@Test
	void handlerShouldRunOnceAndItsAnswerBeReplayedOverHttp2() {
		HttpResponse<byte[]> first = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> retry = this.http.post("/orders").key(this.key).name(this.key).json(ORDER).send();
		assertThat(first.version()).isEqualTo(HttpClient.Version.HTTP_2);
		assertThat(first.statusCode()).isEqualTo(201);
		assertThat(retry.statusCode()).isEqualTo(201);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.headers().firstValue("Location")).isEqualTo(first.headers().firstValue("Location"));
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isOne();
	}

	@Test
	void duplicatesInStreamsOfOneConnectionShouldRunOnce() {
		List<CompletableFuture<HttpResponse<byte[]>>> sent = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			sent.add(this.http.post("/orders/slow")
				.key(this.key)
				.name(this.key)
				.header("X-Delay-Millis", "500")
				.json(ORDER)
				.sendAsync());
		}
		List<HttpResponse<byte[]>> answers = sent.stream().map(CompletableFuture::join).toList();
		assertThat(answers).allSatisfy((answer) -> assertThat(answer.version()).isEqualTo(HttpClient.Version.HTTP_2));
		assertThat(answers).map(HttpResponse::statusCode).containsOnly(200, 409).contains(200);
		assertThat(this.executions.count(this.key)).isOne();
		HttpResponse<byte[]> retry = this.http.post("/orders/slow")
			.key(this.key)
			.name(this.key)
			.header("X-Delay-Millis", "500")
			.json(ORDER)
			.send();
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isOne();
	}

	@Test
	void asyncHandlerShouldRunOnceOverHttp2() {
		HttpResponse<byte[]> first = this.http.post("/orders/callable").key(this.key).name(this.key).json(ORDER).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/callable").key(this.key).name(this.key).json(ORDER).send();
		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isOne();
	}

	@Test
	void statusSentToTheErrorPageShouldBeStoredOverHttp2() {
		HttpResponse<byte[]> first = this.http.post("/orders/send-error").key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post("/orders/send-error").key(this.key).name(this.key).send();
		assertThat(first.statusCode()).isEqualTo(404);
		assertThat(TestHttp.text(first)).contains("\"path\":\"/orders/send-error\"");
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isOne();
	}

	// A client that cancels an upload resets its stream. Tomcat ends the body of a stream
	// reset before it was read where the reset came, as if it were complete: here what
	// arrived is a whole order of its own. Undertow fails the read, or now and then (5
	// runs in 60 here) drops the request before dispatching it, as Jetty always does;
	// Tomcat 11 may too.
	// Sent frame by frame, the reset in the same write as the body so that it comes
	// first: the JDK's client cannot stop a body halfway.
	@Test
	void uploadTheClientCancelsShouldNeverRunTheHandlerAndLeaveTheKeyFree() throws Exception {
		byte[] whole = (ORDER + " ".repeat(16)).getBytes(StandardCharsets.US_ASCII);
		double refusedBefore = incompleteCount(this.registry, "POST /orders");
		long answeredBefore = answeredCount("POST /orders");
		try (Socket socket = priorKnowledgeConnection()) {
			DataOutputStream output = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
			startConnection(output);
			frame(output, HEADERS, END_HEADERS, 1,
					orderHeaders("/orders", "content-length", String.valueOf(whole.length)));
			frame(output, DATA, 0, 1, ORDER.getBytes(StandardCharsets.US_ASCII));
			frame(output, RST_STREAM, 0, 1, new byte[] { 0, 0, 0, CANCEL });
			output.flush();
			awaitFramesTakenIn(new DataInputStream(socket.getInputStream()), output);
		}
		if (!JETTY) {
			awaitRefusedOrNeverDispatched("POST /orders", refusedBefore, answeredBefore);
		}
		assertThat(this.executions.count(this.key)).isZero();
		// The fingerprint of JSON ignores the spaces: the retry would be the replay of a
		// run on the part that arrived.
		HttpResponse<byte[]> retry = this.http.post("/orders")
			.key(this.key)
			.name(this.key)
			.body(whole, "application/json")
			.send();
		assertThat(retry.statusCode()).isEqualTo(201);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(this.executions.count(this.key)).isOne();
	}

	// The same for form data, which the container parses: Tomcat keeps no parameter of a
	// body that ended early, and says so only in a request attribute.
	@Test
	void formTheClientCancelsShouldNeverRunTheHandlerAndLeaveTheKeyFree() throws Exception {
		String whole = "item=pen&note=" + "a".repeat(30);
		double refusedBefore = incompleteCount(this.registry, "POST /orders/form");
		try (Socket socket = priorKnowledgeConnection()) {
			DataOutputStream output = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
			startConnection(output);
			frame(output, HEADERS, END_HEADERS, 1, requestHeaders("/orders/form", "application/x-www-form-urlencoded",
					"content-length", String.valueOf(whole.length())));
			frame(output, DATA, 0, 1, whole.substring(0, 20).getBytes(StandardCharsets.US_ASCII));
			frame(output, RST_STREAM, 0, 1, new byte[] { 0, 0, 0, CANCEL });
			output.flush();
			awaitFramesTakenIn(new DataInputStream(socket.getInputStream()), output);
		}
		if (!JETTY) {
			await().atMost(5, TimeUnit.SECONDS)
				.until(() -> incompleteCount(this.registry, "POST /orders/form") == refusedBefore + 1);
		}
		assertThat(this.executions.count(this.key)).isZero();
		HttpResponse<byte[]> retry = this.http.post("/orders/form").key(this.key).name(this.key).form(whole).send();
		assertThat(retry.statusCode()).isEqualTo(200);
		assertThat(TestHttp.text(retry)).isEqualTo("pen run 1");
	}

	// A form sent with PUT whose client resets its stream before any of the body arrives:
	// Tomcat ends the body there as if it were complete, and FormContentFilter reads no
	// parameter from it. The handler must not run on an empty form. Undertow fails the
	// filter's read, and Jetty drops the request.
	@Test
	void formSentWithPutThatTheClientCancelsBeforeItsBodyShouldNeverRunTheHandler() throws Exception {
		String whole = "item=pen";
		double refusedBefore = incompleteCount(this.registry, "PUT /orders/form");
		long answeredBefore = answeredCount("PUT /orders/form");
		try (Socket socket = priorKnowledgeConnection()) {
			DataOutputStream output = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
			startConnection(output);
			frame(output, HEADERS, END_HEADERS, 1,
					headers(":method", "PUT", ":scheme", "http", ":path", "/orders/form", ":authority", "127.0.0.1",
							"content-type", "application/x-www-form-urlencoded", "content-length",
							String.valueOf(whole.length()), "idempotency-key", this.key, "x-test-name", this.key));
			frame(output, RST_STREAM, 0, 1, new byte[] { 0, 0, 0, CANCEL });
			output.flush();
			awaitFramesTakenIn(new DataInputStream(socket.getInputStream()), output);
		}
		if (!JETTY && !UNDERTOW) {
			awaitRefusedOrNeverDispatched("PUT /orders/form", refusedBefore, answeredBefore);
		}
		assertThat(this.executions.count(this.key)).isZero();
		HttpResponse<byte[]> retry = this.http.put("/orders/form").key(this.key).name(this.key).form(whole).send();
		assertThat(TestHttp.text(retry)).isEqualTo("pen replaced, run 1");
	}

	// The handler goes on without its client: its answer is stored, not lost, and the key
	// is neither released nor held once it is.
	@Test
	void answerOfAStreamTheClientResetShouldStillBeStoredAndReplayed() throws Exception {
		try (Socket socket = priorKnowledgeConnection()) {
			DataOutputStream output = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
			startConnection(output);
			frame(output, HEADERS, END_HEADERS, 1, orderHeaders("/orders/slow", "x-delay-millis", "3000"));
			frame(output, DATA, END_STREAM, 1, ORDER.getBytes(StandardCharsets.US_ASCII));
			output.flush();
			awaitExecutions(this.key, 1);
			frame(output, RST_STREAM, 0, 1, new byte[] { 0, 0, 0, CANCEL });
			output.flush();
			HttpResponse<byte[]> whileRunning = slowOrder();
			assertThat(whileRunning.statusCode()).isEqualTo(409);
			await().atMost(10, TimeUnit.SECONDS)
				.pollInterval(100, TimeUnit.MILLISECONDS)
				.until(() -> slowOrder().headers().firstValue("Idempotent-Replayed").isPresent());
		}
		assertThat(this.executions.count(this.key)).isOne();
	}

	private HttpResponse<byte[]> slowOrder() {
		return this.http.post("/orders/slow")
			.key(this.key)
			.name(this.key)
			.header("X-Delay-Millis", "1000")
			.json(ORDER)
			.send();
	}

	private Socket priorKnowledgeConnection() throws IOException {
		Socket socket = new Socket("127.0.0.1", this.port);
		socket.setSoTimeout(10_000);
		return socket;
	}

	// Prior knowledge: the connection starts with HTTP/2's preface, no upgrade. Tomcat
	// looks for the preface in the first bytes it reads, so it goes in one write with the
	// settings; frames are buffered until the caller flushes them.
	private static void startConnection(DataOutputStream output) throws IOException {
		output.writeBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
		frame(output, SETTINGS, 0, 0, new byte[0]);
		output.flush();
	}

	private byte[] orderHeaders(String path, String... more) {
		return requestHeaders(path, "application/json", more);
	}

	private byte[] requestHeaders(String path, String contentType, String... more) {
		List<String> fields = new ArrayList<>(List.of(":method", "POST", ":scheme", "http", ":path", path, ":authority",
				"127.0.0.1", "content-type", contentType, "idempotency-key", this.key, "x-test-name", this.key));
		fields.addAll(List.of(more));
		return headers(fields.toArray(String[]::new));
	}

	private static final int DATA = 0;

	private static final int HEADERS = 1;

	private static final int RST_STREAM = 3;

	private static final int SETTINGS = 4;

	private static final int PING = 6;

	private static final int END_STREAM = 0x1;

	private static final int ACK = 0x1;

	private static final int END_HEADERS = 0x4;

	private static final byte CANCEL = 0x8;

	private static void frame(DataOutputStream output, int type, int flags, int stream, byte[] payload)
			throws IOException {
		output.writeShort(payload.length >>> 8);
		output.writeByte(payload.length);
		output.writeByte(type);
		output.writeByte(flags);
		output.writeInt(stream);
		output.write(payload);
	}

	// HPACK's static table numbers the pseudo-headers' names, which are not tokens:
	// Tomcat 11 refuses them written out.
	private static final Map<String, Integer> PSEUDO_HEADER_INDEXES = Map.of(":authority", 1, ":method", 2, ":path", 4,
			":scheme", 6);

	// Each field a literal without indexing, its name by index for a pseudo-header and
	// written out for any other; every name and value here is shorter than 127 bytes, so
	// each length takes one byte.
	private static byte[] headers(String... namesAndValues) {
		ByteArrayOutputStream block = new ByteArrayOutputStream();
		for (int i = 0; i < namesAndValues.length; i += 2) {
			Integer index = PSEUDO_HEADER_INDEXES.get(namesAndValues[i]);
			block.write((index != null) ? index : 0);
			if (index == null) {
				writeString(block, namesAndValues[i]);
			}
			writeString(block, namesAndValues[i + 1]);
		}
		return block.toByteArray();
	}

	private static void writeString(ByteArrayOutputStream block, String text) {
		byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
		block.write(bytes.length);
		block.writeBytes(bytes);
	}

	// Pings the server and reads its frames until it answers: it handles a connection's
	// frames in order, so it has taken in every frame sent before the ping.
	// Refused as incomplete before the handler could run, so that the handler never runs
	// after this; or never dispatched, the application answering nothing in the meantime
	// (seen on Undertow, and on Tomcat 11 in full runs, not diagnosed).
	private void awaitRefusedOrNeverDispatched(String operation, double refusedBefore, long answeredBefore) {
		try {
			await().atMost(5, TimeUnit.SECONDS)
				.until(() -> incompleteCount(this.registry, operation) == refusedBefore + 1);
		}
		catch (ConditionTimeoutException ex) {
			if (answeredCount(operation) != answeredBefore) {
				throw ex;
			}
		}
	}

	// Requests to the operation the application answered, as Spring Boot's observation
	// counts them: not all requests, as this test's own GET before it may be counted only
	// after its client has the answer.
	private long answeredCount(String operation) {
		String[] methodAndUri = operation.split(" ", 2);
		return this.registry.find("http.server.requests")
			.tag("method", methodAndUri[0])
			.tag("uri", methodAndUri[1])
			.timers()
			.stream()
			.mapToLong(Timer::count)
			.sum();
	}

	private static void awaitFramesTakenIn(DataInputStream input, DataOutputStream output) throws IOException {
		frame(output, PING, 0, 0, new byte[8]);
		output.flush();
		while (true) {
			int length = (input.readUnsignedShort() << 8) | input.readUnsignedByte();
			int type = input.readUnsignedByte();
			int flags = input.readUnsignedByte();
			input.readInt();
			input.skipNBytes(length);
			if (type == SETTINGS && (flags & ACK) == 0) {
				frame(output, SETTINGS, ACK, 0, new byte[0]);
				output.flush();
			}
			if (type == PING && (flags & ACK) != 0) {
				return;
			}
		}
	}

}
