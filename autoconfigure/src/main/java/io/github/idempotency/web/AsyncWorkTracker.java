package io.github.idempotency.web;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;

import io.github.idempotency.interceptor.IdempotentCall;
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
 * starting. A {@code DeferredResult} says nothing once it has timed out, so its claim is
 * kept (and renewed, up to {@code idempotency.lock-renewal.max-duration}) unless the
 * handler returned a {@code CompletableFuture}, whose completion is followed instead.
 *
 * <p>
 * Work is keyed by its task, the one object every callback sees: the request itself may
 * be recycled by the container before work that outlived it ends. Keys are held weakly,
 * so work that is cancelled before it starts leaves nothing behind. Thread-safe.
 *
 * @since 0.1.0
 */
public final class AsyncWorkTracker implements CallableProcessingInterceptor, DeferredResultProcessingInterceptor {

	private final Map<Object, IdempotentExchange> work = Collections.synchronizedMap(new WeakHashMap<>());

	@Override
	public <T> void beforeConcurrentHandling(NativeWebRequest request, Callable<T> task) {
		IdempotentExchange exchange = exchange(request);
		if (exchange != null) {
			exchange.workSubmitted();
			this.work.put(task, exchange);
		}
	}

	@Override
	public <T> void preProcess(NativeWebRequest request, Callable<T> task) {
		IdempotentExchange exchange = this.work.get(task);
		if (exchange != null && !exchange.workStarting()) {
			this.work.remove(task);
			throw new CancellationException("Not started: the request answered and released its idempotency key"
					+ " before this work could start");
		}
	}

	@Override
	public <T> void postProcess(NativeWebRequest request, Callable<T> task, @Nullable Object concurrentResult) {
		IdempotentExchange exchange = this.work.remove(task);
		if (exchange != null) {
			exchange.workStopped();
		}
	}

	@Override
	public <T> void beforeConcurrentHandling(NativeWebRequest request, DeferredResult<T> deferredResult) {
		IdempotentExchange exchange = exchange(request);
		if (exchange != null) {
			exchange.workRunning();
			this.work.put(deferredResult, exchange);
		}
	}

	@Override
	public <T> boolean handleTimeout(NativeWebRequest request, DeferredResult<T> deferredResult) {
		// From here the result handler only reports the timeout, not the work's end.
		this.work.remove(deferredResult);
		return true;
	}

	@Override
	public <T> boolean handleError(NativeWebRequest request, DeferredResult<T> deferredResult, Throwable t) {
		this.work.remove(deferredResult);
		return true;
	}

	@Override
	public <T> void postProcess(NativeWebRequest request, DeferredResult<T> deferredResult,
			@Nullable Object concurrentResult) {
		IdempotentExchange exchange = this.work.remove(deferredResult);
		if (exchange != null) {
			exchange.deferredResultSet();
		}
	}

	private static @Nullable IdempotentExchange exchange(NativeWebRequest request) {
		return (request.getAttribute(IdempotentCall.ATTRIBUTE,
				RequestAttributes.SCOPE_REQUEST) instanceof IdempotentExchange exchange) ? exchange : null;
	}

}
