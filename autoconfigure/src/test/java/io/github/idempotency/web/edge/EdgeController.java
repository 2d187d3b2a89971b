package io.github.idempotency.web.edge;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.web.app.Executions;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import reactor.core.publisher.Flux;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.CrossOrigin;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.util.FileCopyUtils;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.context.request.async.WebAsyncTask;
import org.springframework.web.multipart.MultipartFile;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.servlet.View;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;

/**
 * Idempotent endpoints of the shapes that broke the promise before: each records its run
 * under the name sent in {@code X-Test-Name}.
 */
@RestController
@RequestMapping("/edge")
public class EdgeController {

	private final AtomicLong ids = new AtomicLong();

	private final Executions executions;

	private final Gates gates;

	// Work of its own, so that no test waits behind another's in the common pool.
	private final ExecutorService workers = Executors.newCachedThreadPool();

	public EdgeController(Executions executions, Gates gates) {
		this.executions = executions;
		this.gates = gates;
	}

	@PostMapping("/payments")
	@Idempotent
	ResponseEntity<Payment> pay(@RequestHeader("X-Test-Name") String name, @RequestBody String body) {
		int run = this.executions.record(name);
		Payment payment = new Payment(this.ids.incrementAndGet(), run);
		return ResponseEntity.created(URI.create("/edge/payments/" + payment.id())).body(payment);
	}

	// A mapping that names no HTTP method takes every one, made-up ones too.
	@RequestMapping(path = "/any-method", produces = MediaType.TEXT_PLAIN_VALUE)
	@Idempotent
	String anyMethod(@RequestHeader("X-Test-Name") String name) {
		return "run " + this.executions.record(name);
	}

	@PostMapping(path = "/form", produces = MediaType.TEXT_PLAIN_VALUE)
	@Idempotent
	String form(@RequestHeader("X-Test-Name") String name, @RequestParam(required = false) String item,
			@RequestParam(required = false) String note) {
		return this.executions.record(name) + ":" + item + ":" + note;
	}

	// A form sent with PUT: Spring's FormContentFilter, when it is on, reads it into
	// parameters; without it the handler reads the body.
	@PutMapping(path = "/form", consumes = MediaType.APPLICATION_FORM_URLENCODED_VALUE,
			produces = MediaType.TEXT_PLAIN_VALUE)
	@Idempotent
	String replaceForm(@RequestHeader("X-Test-Name") String name, @RequestParam(required = false) String item,
			@RequestBody(required = false) String body) {
		return this.executions.record(name) + ":" + item + ":" + body;
	}

	@PostMapping(path = "/cross-origin", produces = MediaType.TEXT_PLAIN_VALUE)
	@CrossOrigin(origins = "https://shop.example", exposedHeaders = "Location")
	@Idempotent
	String crossOrigin(@RequestHeader("X-Test-Name") String name) {
		return "run " + this.executions.record(name);
	}

	@PostMapping(path = "/upload", produces = MediaType.TEXT_PLAIN_VALUE)
	@Idempotent
	String upload(@RequestHeader("X-Test-Name") String name, @RequestParam String note,
			@RequestParam MultipartFile file) throws IOException {
		return this.executions.record(name) + ":" + note + ":" + file.getOriginalFilename() + ":"
				+ new String(file.getBytes(), StandardCharsets.UTF_8);
	}

	@PostMapping(path = "/echo-reader", produces = MediaType.TEXT_PLAIN_VALUE)
	@Idempotent
	String echoFromTheReader(@RequestHeader("X-Test-Name") String name,
			@RequestAttribute(FirstLineFilter.FIRST_LINE) String firstLine, Reader body) throws IOException {
		return this.executions.record(name) + ":" + firstLine + ":" + FileCopyUtils.copyToString(body);
	}

	@PostMapping(path = "/echo", produces = MediaType.TEXT_PLAIN_VALUE)
	@Idempotent
	String echo(@RequestHeader("X-Test-Name") String name, @RequestBody String body) {
		return this.executions.record(name) + ":" + body;
	}

	// Long enough for any server's compression.
	@PostMapping(path = "/statement", produces = MediaType.TEXT_PLAIN_VALUE)
	@Idempotent
	String statement(@RequestHeader("X-Test-Name") String name) {
		return statementOfRun(this.executions.record(name));
	}

	@PostMapping(path = "/statement-plain", produces = MediaType.TEXT_PLAIN_VALUE)
	String statementPlain() {
		return statementOfRun(1);
	}

	private static String statementOfRun(int run) {
		return "statement of run " + run + "\n" + "line of the statement\n".repeat(200);
	}

	@PostMapping("/export")
	@Idempotent
	ResponseEntity<String> export(@RequestHeader("X-Test-Name") String name, @RequestParam String filename) {
		int run = this.executions.record(name);
		// A file name taken from user input, as real download endpoints do.
		return ResponseEntity.ok()
			.header("Content-Disposition", "attachment; filename=\"" + filename + "\"")
			.body("export run " + run);
	}

	@PostMapping("/async/callable")
	@Idempotent
	Callable<String> callable(@RequestHeader("X-Test-Name") String name, @RequestHeader("X-Delay-Millis") long delay) {
		return () -> work(name, delay);
	}

	@PostMapping("/async/task")
	@Idempotent
	WebAsyncTask<String> task(@RequestHeader("X-Test-Name") String name, @RequestHeader("X-Delay-Millis") long delay) {
		return new WebAsyncTask<>(() -> work(name, delay));
	}

	@PostMapping("/async/future")
	@Idempotent
	CompletableFuture<String> future(@RequestHeader("X-Test-Name") String name,
			@RequestHeader("X-Delay-Millis") long delay) {
		return CompletableFuture.supplyAsync(() -> work(name, delay), this.workers);
	}

	@PostMapping("/async/deferred")
	@Idempotent
	DeferredResult<String> deferred(@RequestHeader("X-Test-Name") String name,
			@RequestHeader("X-Delay-Millis") long delay) {
		DeferredResult<String> result = new DeferredResult<>();
		this.workers.execute(() -> result.setResult(work(name, delay)));
		return result;
	}

	// Its work sets the result only once the handler's dispatch is over, which the
	// application's interceptor tells (EdgeApplication.WORK_ANSWERS_DURING_TIMEOUT).
	@PostMapping("/async/deferred-after-return")
	@Idempotent
	DeferredResult<String> deferredAfterReturn(@RequestHeader("X-Test-Name") String name) {
		DeferredResult<String> result = new DeferredResult<>();
		CountDownLatch returned = this.gates.open(name + " returned");
		this.workers.execute(() -> {
			try {
				returned.await(10, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			result.setResult(work(name, 0));
		});
		return result;
	}

	// Its timeout callback stops the work, whose thread then answers with what it had
	// done: an answer the timeout brought about, which wins the race with the timeout's.
	@PostMapping("/async/deferred-stopped-by-its-timeout")
	@Idempotent
	DeferredResult<String> deferredStoppedByItsTimeout(@RequestHeader("X-Test-Name") String name) {
		DeferredResult<String> result = new DeferredResult<>();
		CountDownLatch stop = new CountDownLatch(1);
		CountDownLatch answered = new CountDownLatch(1);
		this.workers.execute(() -> {
			int run = this.executions.record(name);
			try {
				stop.await(10, TimeUnit.SECONDS);
				result.setResult(name + " stopped in run " + run);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			finally {
				answered.countDown();
			}
		});
		result.onTimeout(() -> {
			stop.countDown();
			try {
				answered.await(10, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		});
		return result;
	}

	@PostMapping("/async/deferred-fallback")
	@Idempotent
	DeferredResult<ResponseEntity<String>> deferredWithFallback(@RequestHeader("X-Test-Name") String name,
			@RequestHeader("X-Delay-Millis") long delay) {
		// Its own answer on timeout, as many applications give.
		DeferredResult<ResponseEntity<String>> result = new DeferredResult<>(null,
				() -> ResponseEntity.status(503).body("still working, try again"));
		this.workers.execute(() -> result.setResult(ResponseEntity.ok(work(name, delay))));
		return result;
	}

	// Spring MVC follows an emitter with a DeferredResult of its own, whatever the
	// handler declares.
	@PostMapping("/async/emitter")
	@Idempotent
	Object emitter(@RequestHeader("X-Test-Name") String name, @RequestHeader("X-Delay-Millis") long delay) {
		SseEmitter emitter = new SseEmitter();
		this.workers.execute(() -> {
			String result = work(name, delay);
			try {
				emitter.send(result);
				emitter.complete();
			}
			catch (IOException | IllegalStateException ex) {
				// Timed out before the work ended: nobody is left to tell.
			}
		});
		return emitter;
	}

	// The DeferredResult comes from a Callable: Spring MVC waits for it in a second async
	// phase, with an async request of its own.
	@PostMapping("/async/nested-deferred")
	@Idempotent
	Callable<DeferredResult<String>> nestedDeferred(@RequestHeader("X-Test-Name") String name,
			@RequestHeader("X-Delay-Millis") long delay) {
		return () -> deferred(name, delay);
	}

	@PostMapping("/async/nested-deferred-fallback")
	@Idempotent
	Callable<DeferredResult<ResponseEntity<String>>> nestedDeferredWithFallback(
			@RequestHeader("X-Test-Name") String name, @RequestHeader("X-Delay-Millis") long delay) {
		return () -> deferredWithFallback(name, delay);
	}

	// Async processing of the handler's own, outside Spring MVC's: its work answers and
	// completes on another thread, through the container's response or the one it got.
	@PostMapping("/async/raw")
	@Idempotent
	void raw(@RequestHeader("X-Test-Name") String name, @RequestParam boolean wrapped, HttpServletRequest request,
			HttpServletResponse response) {
		answerOnAnotherThread(name, wrapped ? request.startAsync(request, response) : request.startAsync());
	}

	@PostMapping("/async/raw-plain")
	void rawPlain(@RequestHeader("X-Test-Name") String name, HttpServletRequest request) {
		answerOnAnotherThread(name, request.startAsync());
	}

	private void answerOnAnotherThread(String name, AsyncContext async) {
		this.workers.execute(() -> {
			try {
				async.getResponse().getWriter().write("raw run " + this.executions.record(name));
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
			finally {
				async.complete();
			}
		});
	}

	// Collected into one JSON array, or streamed when the client's Accept asks for a
	// stream: no startup check can tell which.
	@PostMapping("/flux")
	@Idempotent
	Flux<Payment> flux(@RequestHeader("X-Test-Name") String name) {
		int run = this.executions.record(name);
		return Flux.range(1, 3).delayElements(Duration.ofMillis(20)).map((id) -> new Payment(id, run));
	}

	// Spring MVC streams the emitter it finds returned, which no startup check can see in
	// a declared Object.
	@PostMapping("/emitter-as-object")
	@Idempotent
	Object emitterAsObject(@RequestHeader("X-Test-Name") String name) {
		int run = this.executions.record(name);
		SseEmitter emitter = new SseEmitter();
		this.workers.execute(() -> {
			try {
				emitter.send("first of run " + run);
				Thread.sleep(50);
				emitter.send("second of run " + run);
				emitter.complete();
			}
			catch (IOException | InterruptedException ex) {
				emitter.completeWithError(ex);
			}
		});
		return emitter;
	}

	@PostMapping("/writer")
	@Idempotent
	void writer(@RequestHeader("X-Test-Name") String name, HttpServletResponse response) throws IOException {
		int run = this.executions.record(name);
		response.setContentType("text/plain");
		// Left in the writer's buffer, as a view or a handler that never flushes leaves
		// it.
		response.getWriter().write("written with a writer, run " + run);
	}

	// A view that fails once it has written more than any container's buffer, as a
	// template that meets an error halfway does: Spring MVC resolves no exception from
	// rendering, and the failure leaves the DispatcherServlet.
	@PostMapping("/failing-view")
	@Idempotent
	View failingView(@RequestHeader("X-Test-Name") String name) {
		this.executions.record(name);
		return (model, request, response) -> {
			response.setContentType("text/plain");
			response.getWriter().write("x".repeat(40_000));
			throw new IllegalStateException("The template failed halfway");
		};
	}

	// Its work done, it refuses: a status Spring MVC sends with sendError by default.
	@PostMapping("/refused-after-work")
	@Idempotent
	String refusedAfterWork(@RequestHeader("X-Test-Name") String name) {
		this.executions.record(name);
		throw new ResponseStatusException(HttpStatus.CONFLICT, "already shipped");
	}

	@PostMapping("/refused-after-async-work")
	@Idempotent
	Callable<String> refusedAfterAsyncWork(@RequestHeader("X-Test-Name") String name) {
		return () -> refusedAfterWork(name);
	}

	@PostMapping("/refused-after-future-work")
	@Idempotent
	CompletableFuture<String> refusedAfterFutureWork(@RequestHeader("X-Test-Name") String name) {
		return CompletableFuture.supplyAsync(() -> refusedAfterWork(name), this.workers);
	}

	@PostMapping("/refused-by-failed-future")
	@Idempotent
	CompletableFuture<String> refusedByFailedFuture(@RequestHeader("X-Test-Name") String name) {
		this.executions.record(name);
		return CompletableFuture.failedFuture(new ResponseStatusException(HttpStatus.CONFLICT, "already shipped"));
	}

	@PostMapping("/refused-after-task-work")
	@Idempotent
	WebAsyncTask<String> refusedAfterTaskWork(@RequestHeader("X-Test-Name") String name) {
		return new WebAsyncTask<>(() -> refusedAfterWork(name));
	}

	// Part of a body written, held back and never flushed, before the refusal.
	@PostMapping("/refused-after-partial-stream")
	@Idempotent
	StreamingResponseBody refusedAfterPartialStream(@RequestHeader("X-Test-Name") String name) {
		return (out) -> {
			out.write("partial body".getBytes(StandardCharsets.UTF_8));
			refusedAfterWork(name);
		};
	}

	// A timeout of its own, past the tests' 400 ms: its work is quick, but on a loaded
	// machine it once started later than that, and a result racing the timeout may get
	// an empty error page from Undertow, with or without the starter (tried 2026-12-05).
	@PostMapping("/refused-after-deferred-work")
	@Idempotent
	DeferredResult<String> refusedAfterDeferredWork(@RequestHeader("X-Test-Name") String name) {
		DeferredResult<String> result = new DeferredResult<>(10_000L);
		CompletableFuture.runAsync(() -> {
			this.executions.record(name);
			result.setErrorResult(new ResponseStatusException(HttpStatus.CONFLICT, "already shipped"));
		});
		return result;
	}

	// The charset comes after the writer, too late to change its encoding.
	@PostMapping("/late-charset")
	@Idempotent
	void lateCharset(@RequestHeader("X-Test-Name") String name, HttpServletResponse response) throws IOException {
		this.executions.record(name);
		PrintWriter writer = response.getWriter();
		response.setContentType("text/plain;charset=UTF-8");
		writer.write("caf\u00e9");
	}

	@PostMapping("/late-charset-plain")
	void lateCharsetPlain(HttpServletResponse response) throws IOException {
		PrintWriter writer = response.getWriter();
		response.setContentType("text/plain;charset=UTF-8");
		writer.write("caf\u00e9");
	}

	// A download that fails partway, answered anew through the writer after a reset.
	@PostMapping("/reset-to-writer")
	@Idempotent
	void resetToWriter(@RequestHeader("X-Test-Name") String name, HttpServletResponse response) throws IOException {
		this.executions.record(name);
		writeThenResetToWriter(response);
	}

	@PostMapping("/reset-to-writer-plain")
	void resetToWriterPlain(HttpServletResponse response) throws IOException {
		writeThenResetToWriter(response);
	}

	private static void writeThenResetToWriter(HttpServletResponse response) throws IOException {
		response.setContentType("application/octet-stream");
		response.getOutputStream().write(new byte[] { 1, 2, 3 });
		response.reset();
		response.setStatus(HttpServletResponse.SC_CONFLICT);
		response.setContentType("text/plain;charset=UTF-8");
		response.getWriter().write("download failed");
	}

	// A type without a charset, then the writer: the container names the writer's charset
	// in the type.
	@PostMapping("/writer-default-charset")
	@Idempotent
	void writerDefaultCharset(@RequestHeader("X-Test-Name") String name, @RequestParam String type,
			HttpServletResponse response) throws IOException {
		this.executions.record(name);
		writeWithDefaultCharset(type, response);
	}

	@PostMapping("/writer-default-charset-plain")
	void writerDefaultCharsetPlain(@RequestParam String type, HttpServletResponse response) throws IOException {
		writeWithDefaultCharset(type, response);
	}

	private static void writeWithDefaultCharset(String type, HttpServletResponse response) throws IOException {
		response.setContentType(type);
		response.getWriter().write("\"caf\u00e9\"");
	}

	// Servlet 6.1's overload where there is one (Spring Boot 4), which a wrapper passes
	// on
	// as it is.
	@PostMapping("/late-charset-object")
	@Idempotent
	void lateCharsetObject(@RequestHeader("X-Test-Name") String name, HttpServletResponse response) throws Exception {
		this.executions.record(name);
		writeWithLateCharset(response);
	}

	@PostMapping("/late-charset-object-plain")
	void lateCharsetObjectPlain(HttpServletResponse response) throws Exception {
		writeWithLateCharset(response);
	}

	private static void writeWithLateCharset(HttpServletResponse response) throws Exception {
		PrintWriter writer = response.getWriter();
		try {
			HttpServletResponse.class.getMethod("setCharacterEncoding", Charset.class)
				.invoke(response, StandardCharsets.UTF_8);
		}
		catch (NoSuchMethodException ex) {
			response.setCharacterEncoding("UTF-8");
		}
		writer.write("caf\u00e9");
	}

	// A locale taken back: the container then sends no Content-Language.
	@PostMapping("/locale-cleared")
	@Idempotent
	String localeCleared(@RequestHeader("X-Test-Name") String name, HttpServletResponse response) {
		response.setLocale(Locale.GERMANY);
		response.setLocale(null);
		return "run " + this.executions.record(name);
	}

	@PostMapping("/locale-reset")
	@Idempotent
	String localeReset(@RequestHeader("X-Test-Name") String name, HttpServletResponse response) {
		response.setLocale(Locale.GERMANY);
		response.reset();
		return "run " + this.executions.record(name);
	}

	// A body written before a redirect never reaches the client, nor one written after.
	@PostMapping("/redirected")
	@Idempotent
	void redirected(@RequestHeader("X-Test-Name") String name, HttpServletResponse response) throws IOException {
		PrintWriter writer = response.getWriter();
		writer.write("run " + this.executions.record(name));
		response.sendRedirect("/edge/payments");
		writer.write("written after the redirect");
	}

	// The same through one of the overloads Servlet 6.1 adds, found by reflection so that
	// this compiles against Servlet 6.0 too: "status" (303), "keep" (the body written
	// before goes with the redirect), "keep-large" (the same with a 20 KB body) or
	// "both".
	@PostMapping("/redirected/{overload}")
	@Idempotent
	void redirectedWith(@RequestHeader("X-Test-Name") String name, @PathVariable String overload,
			HttpServletResponse response) throws Exception {
		// For a body larger than a quarter of the buffer, which it still fits (Jetty's
		// default buffer; Tomcat's is 8 KB).
		if (overload.equals("keep-large") && response.getBufferSize() < 32 * 1024) {
			response.setBufferSize(32 * 1024);
		}
		PrintWriter writer = response.getWriter();
		writer.write("run " + this.executions.record(name));
		if (overload.equals("keep-large")) {
			writer.write(" " + "x".repeat(20_000));
		}
		switch (overload) {
			case "status" -> HttpServletResponse.class.getMethod("sendRedirect", String.class, int.class)
				.invoke(response, "/edge/payments", 303);
			case "keep", "keep-large" ->
				HttpServletResponse.class.getMethod("sendRedirect", String.class, boolean.class)
					.invoke(response, "/edge/payments", false);
			default -> HttpServletResponse.class.getMethod("sendRedirect", String.class, int.class, boolean.class)
				.invoke(response, "/edge/payments", 303, false);
		}
		writer.write("written after the redirect");
	}

	// The language of a rendered view reaches the response this way.
	@PostMapping("/localized")
	@Idempotent
	String localized(@RequestHeader("X-Test-Name") String name, HttpServletResponse response) {
		response.setLocale(Locale.GERMANY);
		return "run " + this.executions.record(name);
	}

	@PostMapping("/stream/stalled")
	@Idempotent
	StreamingResponseBody stalled(@RequestHeader("X-Test-Name") String name,
			@RequestHeader("X-Delay-Millis") long delay, HttpServletResponse response) {
		return (out) -> {
			out.write("first chunk\n".getBytes());
			response.flushBuffer();
			out.write((work(name, delay) + "\n").getBytes());
		};
	}

	@PostMapping("/lease/global")
	@Idempotent
	String globalLease(@RequestHeader("X-Test-Name") String name, @RequestHeader("X-Delay-Millis") long delay) {
		return work(name, delay);
	}

	@PostMapping("/lease/method")
	@Idempotent(lockTimeout = "300ms")
	String methodLease(@RequestHeader("X-Test-Name") String name, @RequestHeader("X-Delay-Millis") long delay) {
		return work(name, delay);
	}

	// Not a stream: the flush sends nothing before the record is stored.
	@PostMapping("/flushed-by-handler")
	@Idempotent
	void flushedByHandler(@RequestHeader("X-Test-Name") String name, HttpServletResponse response) throws IOException {
		this.executions.record(name);
		response.setContentType(MediaType.TEXT_PLAIN_VALUE);
		response.getOutputStream().write("written, then flushed\n".getBytes(StandardCharsets.UTF_8));
		response.flushBuffer();
		try {
			this.gates.open(name).await(20, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		response.getOutputStream().write("done\n".getBytes(StandardCharsets.UTF_8));
	}

	@PostMapping("/stream/flushed")
	@Idempotent
	StreamingResponseBody flushed(@RequestHeader("X-Test-Name") String name, HttpServletResponse response) {
		this.executions.record(name);
		CountDownLatch gate = this.gates.open(name);
		return (out) -> {
			out.write("first chunk\n".getBytes());
			out.flush();
			// Spring Framework 7 no longer passes a flush of this stream on (unless
			// spring.http.response.flush.enabled is set), so a stream that must reach the
			// client flushes the response.
			response.flushBuffer();
			try {
				gate.await(20, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			out.write("last chunk\n".getBytes());
		};
	}

	@PostMapping("/stream/large")
	@Idempotent
	StreamingResponseBody large(@RequestHeader("X-Test-Name") String name, @RequestParam int megabytes) {
		this.executions.record(name);
		return (out) -> {
			byte[] chunk = new byte[64 * 1024];
			for (int i = 0; i < megabytes * 16; i++) {
				out.write(chunk);
			}
		};
	}

	@PostMapping("/stream/small")
	@Idempotent
	StreamingResponseBody small(@RequestHeader("X-Test-Name") String name) {
		int run = this.executions.record(name);
		return (out) -> out.write(("small run " + run).getBytes());
	}

	// Runs for the given time whatever happens, interrupts included, as much real work
	// does (a blocking driver call, a remote call without a timeout).
	private String work(String name, long millis) {
		int run = this.executions.record(name);
		long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
		while (System.nanoTime() < end) {
			try {
				Thread.sleep(10);
			}
			catch (InterruptedException ex) {
				// Ignored on purpose.
			}
		}
		return name + " run " + run;
	}

	record Payment(long id, int run) {
	}

}
