package io.github.idempotency.web.app;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.github.idempotency.annotation.Idempotent;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Positive;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.validation.BindingResult;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.servlet.ModelAndView;

/**
 * Idempotent endpoints of every shape the starter must handle. Each handler records its
 * run under the name the test sends in {@code X-Test-Name}, so a test can count real
 * executions.
 */
@RestController
@RequestMapping("/orders")
public class OrderController {

	private final AtomicLong ids = new AtomicLong();

	private final Executions executions;

	private final Receipts receipts;

	public OrderController(Executions executions, Receipts receipts) {
		this.executions = executions;
		this.receipts = receipts;
	}

	@PostMapping
	@Idempotent
	ResponseEntity<Order> create(@RequestHeader("X-Test-Name") String name, @Valid @RequestBody OrderRequest request) {
		int run = this.executions.record(name);
		Order order = new Order(this.ids.incrementAndGet(), request.item(), request.quantity(), run);
		return ResponseEntity.created(URI.create("/orders/" + order.id()))
			.header("Set-Cookie", "session=secret")
			.header("X-Trace", "trace-" + order.id())
			.body(order);
	}

	@PostMapping("/with-receipt")
	@Idempotent
	String createWithReceipt(@RequestHeader("X-Test-Name") String name, @RequestBody OrderRequest request) {
		return "order " + this.executions.record(name) + ", " + this.receipts.issue(request.item(), name);
	}

	@PostMapping("/accepted")
	@Idempotent
	@ResponseStatus(HttpStatus.ACCEPTED)
	Order accept(@RequestHeader("X-Test-Name") String name, @RequestBody OrderRequest request) {
		int run = this.executions.record(name);
		return new Order(this.ids.incrementAndGet(), request.item(), request.quantity(), run);
	}

	@PostMapping("/void")
	@Idempotent
	void nothing(@RequestHeader("X-Test-Name") String name) {
		this.executions.record(name);
	}

	@PostMapping("/slow")
	@Idempotent
	Order slow(@RequestHeader("X-Test-Name") String name, @RequestHeader("X-Delay-Millis") long delay,
			@RequestBody OrderRequest request) throws InterruptedException {
		int run = this.executions.record(name);
		Thread.sleep(delay);
		return new Order(this.ids.incrementAndGet(), request.item(), request.quantity(), run);
	}

	@PostMapping("/short-lease")
	@Idempotent(lockTimeout = "400ms")
	Order shortLease(@RequestHeader("X-Test-Name") String name, @RequestHeader("X-Delay-Millis") long delay,
			@RequestBody OrderRequest request) throws InterruptedException {
		int run = this.executions.record(name);
		Thread.sleep(delay);
		return new Order(this.ids.incrementAndGet(), request.item(), request.quantity(), run);
	}

	@PostMapping("/short-ttl")
	@Idempotent(ttl = "1s")
	Order shortTtl(@RequestHeader("X-Test-Name") String name, @RequestBody OrderRequest request) {
		int run = this.executions.record(name);
		return new Order(this.ids.incrementAndGet(), request.item(), request.quantity(), run);
	}

	@PostMapping("/failing")
	@Idempotent
	Order failing(@RequestHeader("X-Test-Name") String name, @RequestBody OrderRequest request) {
		if (this.executions.record(name) == 1) {
			throw new IllegalStateException("First attempt fails");
		}
		return new Order(this.ids.incrementAndGet(), request.item(), request.quantity(), 2);
	}

	@PostMapping("/unavailable")
	@Idempotent
	ResponseEntity<String> unavailable(@RequestHeader("X-Test-Name") String name) {
		int run = this.executions.record(name);
		return (run == 1) ? ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).body("try later")
				: ResponseEntity.ok("run " + run);
	}

	// Answered by another handler on a forward, which Spring Security's firewall wraps
	// the response of.
	@PostMapping("/forwarding")
	@Idempotent
	ModelAndView forwarding(@RequestHeader("X-Test-Name") String name) {
		this.executions.record(name);
		return new ModelAndView("forward:/orders/forwarded");
	}

	@PostMapping("/forwarded")
	Map<String, Long> forwarded() {
		return Map.of("receipt", this.ids.incrementAndGet());
	}

	// Starts async processing of its own once its work is done, which the starter
	// refuses.
	@PostMapping("/raw-async")
	@Idempotent
	void rawAsync(@RequestHeader("X-Test-Name") String name, HttpServletRequest request) {
		this.executions.record(name);
		request.startAsync();
	}

	// Takes the validation errors itself, so Spring MVC calls it with them.
	@PostMapping("/checked")
	@Idempotent
	ResponseEntity<?> createChecked(@RequestHeader("X-Test-Name") String name, @Valid @RequestBody OrderRequest request,
			BindingResult errors) {
		int run = this.executions.record(name);
		if (errors.hasErrors()) {
			return ResponseEntity.badRequest().body("invalid on run " + run);
		}
		return ResponseEntity.ok(new Order(this.ids.incrementAndGet(), request.item(), request.quantity(), run));
	}

	@PostMapping("/declined")
	@Idempotent
	Order declined(@RequestHeader("X-Test-Name") String name) {
		throw new DeclinedException("declined on run " + this.executions.record(name));
	}

	// The handler's work began, then a downstream service's connection failed.
	@PostMapping("/declined-downstream")
	@Idempotent
	Order declinedDownstream(@RequestHeader("X-Test-Name") String name,
			@RequestHeader("X-Downstream-Failure") String failure) {
		int run = this.executions.record(name);
		IOException cause = failure.equals("eof") ? new EOFException("EOF reached while reading")
				: new IOException("Connection reset by peer");
		throw new DeclinedException("declined on run " + run, new UncheckedIOException(cause));
	}

	@PostMapping("/too-many")
	@Idempotent
	ResponseEntity<String> tooMany(@RequestHeader("X-Test-Name") String name) {
		this.executions.record(name);
		return ResponseEntity.status(HttpStatus.TOO_MANY_REQUESTS).body("slow down");
	}

	@PostMapping("/send-error")
	@Idempotent
	void sendError(@RequestHeader("X-Test-Name") String name,
			@RequestHeader(name = "X-Status", defaultValue = "404") int status, HttpServletResponse response)
			throws Exception {
		this.executions.record(name);
		response.sendError(status);
	}

	@PostMapping("/body-key")
	@Idempotent(key = "#request.item")
	Order bodyKey(@RequestHeader("X-Test-Name") String name, @RequestBody OrderRequest request) {
		int run = this.executions.record(name);
		return new Order(this.ids.incrementAndGet(), request.item(), request.quantity(), run);
	}

	// "itme": a misspelt property, which no request can give.
	@PostMapping("/misspelt-key")
	@Idempotent(key = "#request.itme")
	Order misspeltKey(@RequestHeader("X-Test-Name") String name, @RequestBody OrderRequest request) {
		int run = this.executions.record(name);
		return new Order(this.ids.incrementAndGet(), request.item(), request.quantity(), run);
	}

	@PostMapping("/tenant")
	@Idempotent(key = "#tenant + ':' + #key")
	Order perTenant(@RequestHeader("X-Test-Name") String name, @RequestHeader("X-Tenant-Id") String tenant,
			@RequestHeader("Idempotency-Key") String key, @RequestBody OrderRequest request) {
		int run = this.executions.record(name);
		return new Order(this.ids.incrementAndGet(), request.item(), request.quantity(), run);
	}

	// Reads the key itself, to log it, say.
	@PostMapping("/logged-key")
	@Idempotent
	Order loggedKey(@RequestHeader("X-Test-Name") String name, @RequestHeader("Idempotency-Key") String key,
			@RequestBody OrderRequest request) {
		int run = this.executions.record(name);
		return new Order(this.ids.incrementAndGet(), request.item(), request.quantity(), run);
	}

	@PostMapping("/optional")
	@Idempotent(required = false)
	Order optional(@RequestHeader("X-Test-Name") String name, @RequestBody OrderRequest request) {
		int run = this.executions.record(name);
		return new Order(this.ids.incrementAndGet(), request.item(), request.quantity(), run);
	}

	// Its work ends on an async dispatch, where Spring MVC runs the interceptors again.
	@PostMapping("/optional-async")
	@Idempotent(required = false)
	Callable<Order> optionalAsync(@RequestHeader("X-Test-Name") String name, @RequestBody OrderRequest request) {
		return () -> optional(name, request);
	}

	@PostMapping("/linked")
	@Idempotent
	ResponseEntity<String> linked(@RequestHeader("X-Test-Name") String name) {
		int run = this.executions.record(name);
		return ResponseEntity.ok()
			.header("Link", "</orders?page=2>; rel=\"next\"", "</orders?page=0>; rel=\"prev\"")
			.body("run " + run);
	}

	@PostMapping("/custom-header")
	@Idempotent(headerName = "X-Request-Id")
	Order customHeader(@RequestHeader("X-Test-Name") String name, @RequestBody OrderRequest request) {
		int run = this.executions.record(name);
		return new Order(this.ids.incrementAndGet(), request.item(), request.quantity(), run);
	}

	@PostMapping("/{store}/items")
	@Idempotent
	Order perStore(@RequestHeader("X-Test-Name") String name, @PathVariable String store,
			@RequestBody OrderRequest request) {
		int run = this.executions.record(name);
		return new Order(this.ids.incrementAndGet(), store + ":" + request.item(), request.quantity(), run);
	}

	@PostMapping("/large")
	@Idempotent
	String large(@RequestHeader("X-Test-Name") String name, @RequestParam int size) {
		this.executions.record(name);
		return "x".repeat(size);
	}

	@PostMapping(path = "/form", consumes = "application/x-www-form-urlencoded")
	@Idempotent
	String form(@RequestHeader("X-Test-Name") String name, @RequestParam String item) {
		return item + " run " + this.executions.record(name);
	}

	// A form sent with PUT, which Spring's FormContentFilter reads into parameters.
	@PutMapping(path = "/form", consumes = "application/x-www-form-urlencoded")
	@Idempotent
	String replaceForm(@RequestHeader("X-Test-Name") String name, @RequestParam(required = false) String item) {
		return item + " replaced, run " + this.executions.record(name);
	}

	@PostMapping("/callable")
	@Idempotent
	Callable<Order> callable(@RequestHeader("X-Test-Name") String name, @RequestBody OrderRequest request) {
		return () -> {
			Thread.sleep(100);
			int run = this.executions.record(name);
			return new Order(this.ids.incrementAndGet(), request.item(), request.quantity(), run);
		};
	}

	@PostMapping("/deferred")
	@Idempotent
	DeferredResult<ResponseEntity<Order>> deferred(@RequestHeader("X-Test-Name") String name,
			@RequestBody OrderRequest request) {
		DeferredResult<ResponseEntity<Order>> result = new DeferredResult<>();
		CompletableFuture.runAsync(() -> {
			int run = this.executions.record(name);
			Order order = new Order(this.ids.incrementAndGet(), request.item(), request.quantity(), run);
			result.setResult(ResponseEntity.created(URI.create("/orders/" + order.id())).body(order));
		}, CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS));
		return result;
	}

	@PostMapping("/deferred-failure")
	@Idempotent
	DeferredResult<String> deferredFailure(@RequestHeader("X-Test-Name") String name) {
		DeferredResult<String> result = new DeferredResult<>();
		int run = this.executions.record(name);
		CompletableFuture.runAsync(() -> {
			if (run == 1) {
				result.setErrorResult(new IllegalStateException("First attempt fails"));
			}
			else {
				result.setResult("run " + run);
			}
		});
		return result;
	}

	@PutMapping("/put")
	@Idempotent
	String put(@RequestHeader("X-Test-Name") String name) {
		return "run " + this.executions.record(name);
	}

	@DeleteMapping("/{id}")
	@Idempotent
	String delete(@RequestHeader("X-Test-Name") String name, @PathVariable String id) {
		return "deleted " + id + ", run " + this.executions.record(name);
	}

	@PostMapping("/unannotated")
	String unannotated(@RequestHeader("X-Test-Name") String name) {
		return "run " + this.executions.record(name);
	}

	@ExceptionHandler
	ResponseEntity<String> onDeclined(DeclinedException ex) {
		return ResponseEntity.status(HttpStatus.PAYMENT_REQUIRED).body(ex.getMessage());
	}

	public record OrderRequest(@NotBlank String item, @Positive int quantity) {
	}

	public record Order(long id, String item, int quantity, int run) {
	}

	static class DeclinedException extends RuntimeException {

		DeclinedException(String message) {
			super(message);
		}

		DeclinedException(String message, Throwable cause) {
			super(message, cause);
		}

	}

}
