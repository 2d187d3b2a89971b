package io.github.idempotency.method;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import io.github.idempotency.IdempotentCallInProgressException;
import io.github.idempotency.annotation.Idempotent;
import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.annotation.Async;

/**
 * A service whose methods are idempotent outside any web request, counting how often each
 * body really runs.
 */
public class Payments {

	private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();

	private volatile CountDownLatch gate = new CountDownLatch(0);

	private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

	public int runs(String method) {
		AtomicInteger count = this.runs.get(method);
		return (count != null) ? count.get() : 0;
	}

	/**
	 * Holds every gated call until {@link #open()}.
	 */
	public void close() {
		this.gate = new CountDownLatch(1);
	}

	public void open() {
		this.gate.countDown();
	}

	private void ran(String method) {
		this.runs.computeIfAbsent(method, (name) -> new AtomicInteger()).incrementAndGet();
	}

	@Idempotent(key = "#request.reference()")
	public Receipt charge(Charge request) {
		ran("charge");
		return new Receipt(request.reference(), request.amountCents(), "charged " + runs("charge"));
	}

	@Idempotent(key = "#reference")
	public Receipt gated(String reference) throws InterruptedException {
		ran("gated");
		if (!this.gate.await(10, TimeUnit.SECONDS)) {
			throw new IllegalStateException("gate never opened");
		}
		return new Receipt(reference, 1, "gated " + runs("gated"));
	}

	@Idempotent(key = "#reference")
	public List<Receipt> list(String reference, int count) {
		ran("list");
		return java.util.stream.IntStream.range(0, count).mapToObj((i) -> new Receipt(reference, i, "item")).toList();
	}

	@Idempotent(key = "#reference")
	public Optional<Receipt> find(String reference, boolean present) {
		ran("find");
		return present ? Optional.of(new Receipt(reference, 7, "found")) : Optional.empty();
	}

	@Idempotent(key = "#reference")
	public void touch(String reference) {
		ran("touch");
	}

	@Idempotent(key = "#reference")
	public @Nullable Receipt nothing(String reference) {
		ran("nothing");
		return null;
	}

	@Idempotent(key = "#reference")
	public CompletableFuture<Receipt> later(String reference) {
		ran("later");
		return CompletableFuture.supplyAsync(() -> new Receipt(reference, 3, "later " + runs("later")));
	}

	@Idempotent(key = "#reference", fingerprint = "#reference")
	public CompletableFuture<List<String>> gathered(String reference, CompletableFuture<Void> ready) {
		ran("gathered");
		CompletableFuture<List<String>> gathered = new CompletableFuture<>();
		ready.thenRun(() -> gathered.complete(new ArrayList<>(List.of("gathered"))));
		return gathered;
	}

	@Idempotent(key = "#reference")
	public Receipt failing(String reference, boolean fail) {
		ran("failing");
		if (fail) {
			throw new IllegalStateException("payment provider down");
		}
		return new Receipt(reference, 5, "succeeded");
	}

	@Idempotent(key = "#reference", finalExceptions = DeclinedException.class)
	public Receipt decline(String reference) {
		ran("decline");
		throw new DeclinedException("card declined " + runs("decline"));
	}

	// Settled by their futures, as a RabbitMQ listener's message is: the test
	// application's refusal translator says so of methods named settledByFuture.
	@Idempotent(key = "#reference")
	public CompletableFuture<Receipt> settledByFuture(String reference, boolean broken) {
		ran("settledByFuture");
		if (broken) {
			throw new AssertionError("broken");
		}
		return CompletableFuture.supplyAsync(() -> {
			sleep(300);
			return new Receipt(reference, 5, "settled");
		});
	}

	@Idempotent(key = "#reference")
	public CompletionStage<Receipt> settledByFutureStage(String reference) {
		ran("settledByFutureStage");
		return CompletableFuture.supplyAsync(() -> {
			sleep(300);
			return new Receipt(reference, 5, "settled");
		});
	}

	/**
	 * Returns a stage of its own that refuses {@code toCompletableFuture()}, as a
	 * {@code CompletionStage} may.
	 */
	@Idempotent(key = "#reference")
	public CompletionStage<Receipt> settledByOpaqueStage(String reference) {
		ran("settledByOpaqueStage");
		CompletableFuture<Receipt> work = CompletableFuture.supplyAsync(() -> {
			sleep(100);
			return new Receipt(reference, 5, "settled opaquely");
		});
		return (CompletionStage<Receipt>) Proxy.newProxyInstance(Payments.class.getClassLoader(),
				new Class<?>[] { CompletionStage.class }, (proxy, method, arguments) -> {
					if (method.getName().equals("toCompletableFuture")) {
						throw new UnsupportedOperationException("This stage is not a future");
					}
					try {
						return method.invoke(work, arguments);
					}
					catch (InvocationTargetException ex) {
						throw ex.getCause();
					}
				});
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	// @Async's advice comes before every other: the call is claimed on the executor's
	// thread.
	@Async
	@Idempotent(key = "#reference")
	public CompletableFuture<Receipt> gatedInBackground(String reference) throws InterruptedException {
		ran("gatedInBackground");
		if (!this.gate.await(10, TimeUnit.SECONDS)) {
			throw new IllegalStateException("gate never opened");
		}
		return CompletableFuture
			.completedFuture(new Receipt(reference, 1, "in background " + runs("gatedInBackground")));
	}

	@Idempotent(key = "#reference")
	public CompletableFuture<Receipt> slowly(String reference) {
		ran("slowly");
		return CompletableFuture.supplyAsync(() -> {
			try {
				Thread.sleep(200);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			return new Receipt(reference, 4, "slowly " + runs("slowly"));
		});
	}

	@Idempotent(key = "#reference")
	public Receipt pay(String reference, Card card) {
		ran("pay");
		return new Receipt(reference, card.getAmountCents(), card.getType());
	}

	@Idempotent(key = "#reference")
	public String text(String reference, int length) {
		ran("text");
		return "x".repeat(length);
	}

	/**
	 * Declines with the message given, which the test application's codec may fail to
	 * write or read.
	 */
	@Idempotent(key = "#reference", finalExceptions = DeclinedException.class)
	public Receipt declineWith(String reference, String message) {
		ran("declineWith");
		throw new DeclinedException(message);
	}

	@Idempotent(key = "#reference", finalExceptions = DeclinedException.class)
	public Receipt declineAtLength(String reference, int length) {
		ran("declineAtLength");
		throw new DeclinedException("x".repeat(length));
	}

	/**
	 * Returns a value the test application's codec fails on with an exception of its own.
	 */
	@Idempotent(key = "#reference")
	public Unwritable unwritable(String reference) {
		ran("unwritable");
		return new Unwritable();
	}

	@Idempotent(key = "#reference")
	public Opaque opaque(String reference) {
		ran("opaque");
		return new Opaque();
	}

	/**
	 * Runs a step that may itself be idempotent, with every exception final.
	 */
	@Idempotent(key = "#reference", fingerprint = "#reference", finalExceptions = RuntimeException.class)
	public Receipt settle(String reference, Supplier<Receipt> step) {
		ran("settle");
		return step.get();
	}

	@Idempotent(key = "#reference", finalExceptions = DeclinedException.class)
	public Receipt insufficient(String reference) {
		ran("insufficient");
		throw new InsufficientFundsException("balance too low " + runs("insufficient"));
	}

	// Its work met a duplicate in progress in an idempotent call inside it. The test's
	// refusal translator translates it after a pause, or fails to.
	@Idempotent(key = "#reference")
	public CompletableFuture<Receipt> metInnerDuplicate(String reference) {
		ran("metInnerDuplicate");
		return CompletableFuture.supplyAsync(() -> {
			throw new IdempotentCallInProgressException("A call inside with this key is still running");
		});
	}

	@Idempotent(key = "#reference")
	public CompletableFuture<Receipt> metInnerDuplicateUntranslated(String reference) {
		ran("metInnerDuplicateUntranslated");
		return CompletableFuture.failedFuture(new IllegalStateException("Breaks the translator",
				new IdempotentCallInProgressException("A call inside is still running")));
	}

	// Its work meets a duplicate in progress in an idempotent call inside it the first
	// time, and its body meets one before it returns a future the second: the test's
	// refusal translator has it called again each time, and the third call returns.
	@Idempotent(key = "#reference")
	public CompletableFuture<Receipt> calledAgain(String reference) {
		ran("calledAgain");
		int call = this.calls.computeIfAbsent(reference, (key) -> new AtomicInteger()).incrementAndGet();
		if (call == 2) {
			throw new IllegalStateException("Not booked",
					new IdempotentCallInProgressException("A call inside is still running"));
		}
		return CompletableFuture.supplyAsync(() -> {
			if (call == 1) {
				throw new IdempotentCallInProgressException("A call inside is still running");
			}
			return new Receipt(reference, 100, "call " + call);
		});
	}

	// Its work has met a duplicate in progress inside it by the time it returns, the
	// first time; the second call returns the thread it ran on.
	@Idempotent(key = "#reference")
	public CompletableFuture<Receipt> calledAgainAtOnce(String reference) {
		ran("calledAgainAtOnce");
		int call = this.calls.computeIfAbsent(reference, (key) -> new AtomicInteger()).incrementAndGet();
		if (call == 1) {
			return CompletableFuture
				.failedFuture(new IdempotentCallInProgressException("A call inside is still running"));
		}
		return CompletableFuture.completedFuture(new Receipt(reference, 100, Thread.currentThread().getName()));
	}

	// Its work meets a duplicate in progress inside it once the gate opens.
	@Idempotent(key = "#reference")
	public CompletableFuture<Receipt> calledAgainAfterTheGate(String reference) {
		ran("calledAgainAfterTheGate");
		CountDownLatch gate = this.gate;
		return CompletableFuture.supplyAsync(() -> {
			try {
				gate.await(10, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			throw new IdempotentCallInProgressException("A call inside is still running");
		});
	}

	// Its work gave up: the future it returns is cancelled.
	@Idempotent(key = "#reference")
	public CompletableFuture<Receipt> abandoned(String reference) {
		ran("abandoned");
		CompletableFuture<Receipt> work = new CompletableFuture<>();
		work.cancel(false);
		return work;
	}

	// Its work is a stage of work that gave up.
	@Idempotent(key = "#reference")
	public CompletableFuture<Receipt> abandonedUpstream(String reference) {
		ran("abandonedUpstream");
		CompletableFuture<String> upstream = new CompletableFuture<>();
		upstream.cancel(false);
		return upstream.thenApply((note) -> new Receipt(reference, 1, note));
	}

	// Given up on after a time limit, as Resilience4j's @TimeLimiter or orTimeout give
	// up: the work goes on, and would complete the future later.
	@Idempotent(key = "#reference")
	public CompletableFuture<Receipt> timedOut(String reference) {
		ran("timedOut");
		return new CompletableFuture<Receipt>().orTimeout(10, TimeUnit.MILLISECONDS);
	}

	// Declined by the call itself, or through the future it returns.
	@Idempotent(key = "#reference", finalExceptions = DeclinedException.class)
	public CompletableFuture<Receipt> declineEarlyOrLate(String reference, boolean early) {
		ran("declineEarlyOrLate");
		if (early) {
			throw new DeclinedException("declined early");
		}
		return CompletableFuture.failedFuture(new DeclinedException("declined late"));
	}

	// Completed by whatever runs on the executor: a client's I/O thread, say.
	@Idempotent(key = "#reference", fingerprint = "#reference")
	public CompletableFuture<Receipt> completedOn(String reference, Executor executor) {
		ran("completedOn");
		CompletableFuture<Receipt> receipt = new CompletableFuture<>();
		executor.execute(() -> receipt.complete(new Receipt(reference, 1, "completed")));
		return receipt;
	}

	// Interrupted while it worked, it handles the interrupt as it should: it finishes and
	// sets its thread's flag again.
	@Idempotent(key = "#reference")
	public Receipt interrupted(String reference) {
		ran("interrupted");
		Thread.currentThread().interrupt();
		return new Receipt(reference, 1, "interrupted " + runs("interrupted"));
	}

	@Idempotent(key = "#reference")
	public Receipt quote(String reference) {
		ran("quote");
		return new Receipt(reference, 1, "one");
	}

	@Idempotent(key = "#reference")
	public Receipt quote(String reference, int count) {
		ran("quote");
		return new Receipt(reference, count, "many");
	}

	@Idempotent(key = "#reference", required = false)
	public Receipt optional(@Nullable String reference) {
		ran("optional");
		return new Receipt(String.valueOf(reference), 0, "optional");
	}

	@Idempotent(key = "#reference", fingerprint = "#amountCents")
	public Receipt refund(String reference, long amountCents, String comment) {
		ran("refund");
		return new Receipt(reference, amountCents, comment);
	}

	@Idempotent(key = "#reference", scope = "bookings")
	public Receipt book(String reference) {
		ran("book");
		return new Receipt(reference, 1, "booked");
	}

	@Idempotent(key = "#reference", scope = "bookings")
	public Receipt rebook(String reference) {
		ran("rebook");
		return new Receipt(reference, 1, "rebooked");
	}

	@Idempotent(key = "#eventId")
	public Receipt receive(byte[] eventId, long amountCents) {
		ran("receive");
		return new Receipt(new String(eventId, StandardCharsets.UTF_8), amountCents, "received");
	}

	@Idempotent(key = "#command")
	public Receipt order(Command command) {
		ran("order");
		return new Receipt(command.reference, 1, "ordered");
	}

	@Idempotent(key = "#reference")
	public Receipt tag(String reference, Set<String> tags, Tagged tagged) {
		ran("tag");
		return new Receipt(reference, tags.size() + tagged.tags().size(), "tagged");
	}

	@Idempotent(key = "#reference")
	public Number total(String reference) {
		ran("total");
		return 1250L;
	}

	public record Charge(String reference, long amountCents) {
	}

	public record Tagged(Set<String> tags) {
	}

	/**
	 * A command without a {@code toString()} of its own.
	 */
	public static class Command {

		public String reference;

		public Command(String reference) {
			this.reference = reference;
		}

	}

	public record Receipt(String reference, long amountCents, String note) {
	}

	/**
	 * Nothing a JSON mapper can write: its one property fails when read.
	 */
	// Written with a member twice, as Jackson writes a property that an any-getter's map
	// names too: JSON that cannot be put in canonical form.
	public static class Card {

		private final long amountCents;

		public Card(long amountCents) {
			this.amountCents = amountCents;
		}

		public long getAmountCents() {
			return this.amountCents;
		}

		public String getType() {
			return "card";
		}

		@JsonAnyGetter
		public Map<String, Object> getAttributes() {
			return Map.of("type", "card");
		}

	}

	public static class Unwritable {

		public String getNote() {
			return "written by no codec of the test application";
		}

	}

	public static class Opaque {

		public String getSecret() {
			throw new IllegalStateException("not for JSON");
		}

	}

	public static class InsufficientFundsException extends DeclinedException {

		public InsufficientFundsException(String message) {
			super(message);
		}

	}

	public static class DeclinedException extends RuntimeException {

		public DeclinedException(String message) {
			super(message);
		}

	}

}
