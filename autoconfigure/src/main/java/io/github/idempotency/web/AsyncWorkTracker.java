package io.github.idempotency.web;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;

import org.jspecify.annotations.Nullable;

import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.async.CallableProcessingInterceptor;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.context.request.async.DeferredResultProcessingInterceptor;

/**
 * Tells an idempotent request when the async work its handler started begins and ends, so
 * that a claim is never released while that work may still run.
 *
 * <p>
 * After an async timeout, Spring MVC answers the client (503) while the work goes on: a
 * {@code Callable}, {@code WebAsyncTask} or {@code StreamingResponseBody} is interrupted
 * but may ignore it, and a {@code DeferredResult} is never cancelled. Work that runs on
 * an executor is followed to its end, and work that has not started by then is kept from
 * starting. A {@code DeferredResult} says nothing once it has timed out, and Spring MVC
 * cancels a {@code CompletableFuture} then, so their claims are kept (and renewed, up to
 * {@code idempotency.lock-renewal.max-duration}).
 *
 * <p>
 * Work is keyed by the request's async web request, an object of Spring MVC's made for
 * each request and handed to every callback, compared by identity; its attributes are
 * never read after the first callback, as the container may recycle the request before
 * work that outlived it ends. Keys are held weakly, so work that is cancelled before it
 * starts leaves nothing behind; work that started is followed to its end on its own
 * thread. Timeouts and errors are noted by the exchange itself, which also hears from
 * here of each start of async processing that Spring MVC is about to make. Thread-safe.
 *
 * @since 0.1.0
 */
final class AsyncWorkTracker implements CallableProcessingInterceptor, DeferredResultProcessingInterceptor {

	private final Map<NativeWebRequest, IdempotentExchange> work = Collections.synchronizedMap(new WeakHashMap<>());

	// Spring MVC hands pre- and post-processing the async request current at the time,
	// which a timeout's dispatch replaces; both run on the worker thread, so the exchange
	// found before the work goes with it to its end.
	private final ThreadLocal<IdempotentExchange> running = new ThreadLocal<>();

	@Override
	public <T> void beforeConcurrentHandling(NativeWebRequest request, Callable<T> task) {
		IdempotentExchange exchange = track(request);
		if (exchange != null) {
			exchange.workSubmitted(request);
		}
	}

	@Override
	public <T> void preProcess(NativeWebRequest request, Callable<T> task) {
		IdempotentExchange exchange = this.work.remove(request);
		if (exchange == null) {
			return;
		}
		if (!exchange.workStarting()) {
			throw new CancellationException("Not started: the request answered and released its idempotency key"
					+ " before this work could start");
		}
		this.running.set(exchange);
	}

	@Override
	public <T> void postProcess(NativeWebRequest request, Callable<T> task, @Nullable Object concurrentResult) {
		IdempotentExchange exchange = this.running.get();
		if (exchange != null) {
			this.running.remove();
			exchange.workReturned(concurrentResult);
		}
	}

	@Override
	public <T> void beforeConcurrentHandling(NativeWebRequest request, DeferredResult<T> deferredResult) {
		IdempotentExchange exchange = track(request);
		if (exchange != null) {
			exchange.workRunning(request);
		}
	}

	@Override
	public <T> void postProcess(NativeWebRequest request, DeferredResult<T> deferredResult,
			@Nullable Object concurrentResult) {
		IdempotentExchange exchange = this.work.remove(request);
		if (exchange != null) {
			exchange.deferredResultSet(concurrentResult);
		}
	}

	private @Nullable IdempotentExchange track(NativeWebRequest request) {
		if (!(request.getAttribute(IdempotentExchange.ATTRIBUTE,
				RequestAttributes.SCOPE_REQUEST) instanceof IdempotentExchange exchange)) {
			return null;
		}
		exchange.asyncStartAnnounced();
		this.work.put(request, exchange);
		return exchange;
	}

}
