package io.github.idempotency.benchmarks;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.web.RequestFingerprinter;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.mock.web.DelegatingServletOutputStream;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.MvcResult;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.web.context.WebApplicationContext;
import org.springframework.web.servlet.HandlerMapping;

import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;

/**
 * The interceptor's own cost, with the in-memory store so that no network is measured:
 * the same trivial handler, plain and {@code @Idempotent}, on the three paths (first
 * execution, replay, conflict), through MockMvc with the starter's filter in front. The
 * overhead is the difference to {@link #plain()}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
// Spring MVC's call path takes several seconds of load before the JIT is done with it.
@Warmup(iterations = 5, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 2, jvmArgsAppend = { "-Xms1g", "-Xmx1g" })
public class InterceptorOverheadBenchmark {

	private static final byte[] BODY = "{\"name\":\"book\",\"quantity\":2}".getBytes(StandardCharsets.UTF_8);

	private static final String NOT_KEPT_RECORD = Hashing.recordKey("POST /idempotent-short", "first-not-kept");

	private final AtomicLong keys = new AtomicLong();

	private ConfigurableApplicationContext context;

	private MockMvc mvc;

	private IdempotencyStore store;

	@Setup
	public void start() throws Exception {
		this.context = start("idempotency.lock-renewal.enabled=" + System.getProperty("renewal", "true"));
		Filter filter = ((FilterRegistrationBean<?>) this.context.getBean("idempotencyFilterRegistration")).getFilter();
		this.mvc = MockMvcBuilders.webAppContextSetup((WebApplicationContext) this.context)
			.addFilters(new BulkStreams(), filter)
			.build();
		this.store = this.context.getBean(IdempotencyStore.class);
		expect(send("/idempotent", "replayed-key"), 200);
		expect(send("/idempotent-large", "large-replayed"), 200);
		holdInProgress("in-progress-key");
		expect(send("/idempotent", "in-progress-key"), 409);
		expect(send("/idempotent", "replayed-key"), 200);
	}

	@TearDown
	public void stop() {
		this.context.close();
	}

	// Without Redis: its auto-configuration is left out on both Spring Boot lines. On a
	// port of its own, as an argument so that it wins over application.yml's: a
	// benchmark may start two applications.
	private static ConfigurableApplicationContext start(String... properties) {
		return new SpringApplicationBuilder(BenchmarkApplication.class).web(WebApplicationType.SERVLET)
			.properties("spring.autoconfigure.exclude="
					+ "org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration,"
					+ "org.springframework.boot.autoconfigure.data.redis.RedisRepositoriesAutoConfiguration,"
					+ "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration,"
					+ "org.springframework.boot.data.redis.autoconfigure.DataRedisRepositoriesAutoConfiguration")
			.properties(properties)
			.run("--server.port=0");
	}

	/**
	 * The same application with the starter switched off, for what the starter costs a
	 * handler that is not idempotent.
	 */
	@State(Scope.Benchmark)
	public static class WithoutStarter {

		private ConfigurableApplicationContext context;

		private MockMvc mvc;

		@Setup
		public void start() {
			this.context = InterceptorOverheadBenchmark.start("idempotency.enabled=false");
			this.mvc = MockMvcBuilders.webAppContextSetup((WebApplicationContext) this.context)
				.addFilters(new BulkStreams())
				.build();
		}

		@TearDown
		public void stop() {
			this.context.close();
		}

	}

	@Benchmark
	public MvcResult plainWithoutStarter(WithoutStarter application) throws Exception {
		return application.mvc.perform(post("/plain").contentType(MediaType.APPLICATION_JSON).content(BODY))
			.andReturn();
	}

	@Benchmark
	public MvcResult plain() throws Exception {
		return send("/plain", null);
	}

	@Benchmark
	public MvcResult firstExecution() throws Exception {
		return send("/idempotent-short", "first-" + this.keys.incrementAndGet());
	}

	// The same path with its record removed right after, so that the store holds none:
	// what the interceptor costs, apart from what keeping records in this JVM's heap
	// costs
	// the garbage collector (the difference to firstExecution). The removal is measured
	// too.
	@Benchmark
	public MvcResult firstExecutionNotKept() throws Exception {
		MvcResult result = send("/idempotent-short", "first-not-kept");
		this.store.delete(NOT_KEPT_RECORD);
		return result;
	}

	@Benchmark
	public MvcResult replay() throws Exception {
		return send("/idempotent", "replayed-key");
	}

	@Benchmark
	public MvcResult conflict() throws Exception {
		return send("/idempotent", "in-progress-key");
	}

	// A 1 MiB response: what is allocated per request beyond largePlain, in MiB, is the
	// number of copies the starter makes of the body.
	@Benchmark
	public MvcResult largePlain() throws Exception {
		return send("/large", null);
	}

	// One key, its record deleted after each request, so that every request executes
	// and the in-memory store does not fill with mebibytes.
	@Benchmark
	public MvcResult largeFirstExecution() throws Exception {
		MvcResult result = send("/idempotent-large", "large-first");
		this.store.delete(Hashing.recordKey("POST /idempotent-large", "large-first"));
		return result;
	}

	@Benchmark
	public MvcResult largeReplay() throws Exception {
		return send("/idempotent-large", "large-replayed");
	}

	private MvcResult send(String path, String key) throws Exception {
		var request = post(path).contentType(MediaType.APPLICATION_JSON).content(BODY);
		if (key != null) {
			request.header("Idempotency-Key", key);
		}
		return this.mvc.perform(request).andReturn();
	}

	// Claims the key in the store as the coordinator would, so that every request with it
	// meets a request in flight.
	private void holdInProgress(String key) {
		MockHttpServletRequest request = new MockHttpServletRequest("POST", "/idempotent");
		request.setContentType(MediaType.APPLICATION_JSON_VALUE);
		request.setAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE, "/idempotent");
		String fingerprint = this.context.getBean(RequestFingerprinter.class).fingerprint(request, BODY);
		this.store.claim(Hashing.recordKey("POST /idempotent", key), fingerprint, Duration.ofHours(1));
	}

	/**
	 * Gives requests and responses the bulk reads and writes a servlet container has.
	 * MockMvc's streams move one byte per call, some 40 ns a byte here, which would
	 * charge every path by the size of the body it writes: a 300-byte problem response
	 * would look 10 µs dearer than the plain handler's 29 bytes.
	 */
	static final class BulkStreams implements Filter {

		@Override
		public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
				throws IOException, ServletException {
			MockHttpServletRequest mockRequest = (MockHttpServletRequest) request;
			OutputStream target = ((DelegatingServletOutputStream) response.getOutputStream()).getTargetStream();
			chain.doFilter(new HttpServletRequestWrapper(mockRequest) {

				private final ServletInputStream input = new BulkInput(mockRequest.getContentAsByteArray());

				@Override
				public ServletInputStream getInputStream() {
					return this.input;
				}

			}, new HttpServletResponseWrapper((HttpServletResponse) response) {

				private final ServletOutputStream output = new BulkOutput(target);

				@Override
				public ServletOutputStream getOutputStream() {
					return this.output;
				}

			});
		}

	}

	private static final class BulkInput extends ServletInputStream {

		private final ByteArrayInputStream source;

		BulkInput(byte[] content) {
			this.source = new ByteArrayInputStream((content != null) ? content : new byte[0]);
		}

		@Override
		public int read() {
			return this.source.read();
		}

		@Override
		public int read(byte[] buffer, int offset, int length) {
			return this.source.read(buffer, offset, length);
		}

		@Override
		public boolean isFinished() {
			return this.source.available() == 0;
		}

		@Override
		public boolean isReady() {
			return true;
		}

		@Override
		public void setReadListener(ReadListener listener) {
			throw new UnsupportedOperationException();
		}

	}

	private static final class BulkOutput extends ServletOutputStream {

		private final OutputStream target;

		BulkOutput(OutputStream target) {
			this.target = target;
		}

		@Override
		public void write(int b) throws IOException {
			this.target.write(b);
		}

		@Override
		public void write(byte[] buffer, int offset, int length) throws IOException {
			this.target.write(buffer, offset, length);
		}

		@Override
		public boolean isReady() {
			return true;
		}

		@Override
		public void setWriteListener(WriteListener listener) {
			throw new UnsupportedOperationException();
		}

	}

	private static void expect(MvcResult result, int status) {
		if (result.getResponse().getStatus() != status) {
			throw new IllegalStateException("Expected " + status + " but got " + result.getResponse().getStatus());
		}
	}

}
