package io.github.idempotency.messaging;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.concurrent.CustomizableThreadFactory;

/**
 * Pauses that hold up no listener thread: one daemon thread, made when a listener first
 * needs it, times them all, and completes each pause's stage when it ends, or has a
 * thread of a pool of daemon threads complete it, for what follows that may take a while.
 * Asked only when a listener's work met a duplicate, so a lock costs nothing that
 * matters.
 */
final class Pauses {

	private final String threadNamePrefix;

	// All guarded by this: no thread is made once the application has closed.
	private @Nullable ScheduledExecutorService timer;

	private @Nullable ExecutorService workers;

	private boolean closed;

	Pauses(String threadNamePrefix) {
		this.threadNamePrefix = threadNamePrefix;
	}

	/**
	 * A stage that the pauses' thread completes with {@code value} once {@code pause} has
	 * passed.
	 * @throws RejectedExecutionException once closed
	 */
	<T> CompletableFuture<T> after(Duration pause, T value) {
		CompletableFuture<T> afterPause = new CompletableFuture<>();
		timer().schedule(() -> afterPause.complete(value), pause.toMillis(), TimeUnit.MILLISECONDS);
		return afterPause;
	}

	/**
	 * A stage that a thread of the pool completes once {@code pause} has passed; never
	 * completed if this is closed first.
	 * @throws RejectedExecutionException once closed
	 */
	CompletableFuture<Void> thenOnAThreadOfItsOwn(Duration pause) {
		CompletableFuture<Void> afterPause = new CompletableFuture<>();
		ExecutorService workers = workers();
		timer().schedule(() -> {
			try {
				workers.execute(() -> afterPause.complete(null));
			}
			// Closed meanwhile.
			catch (RejectedExecutionException ex) {
			}
		}, pause.toMillis(), TimeUnit.MILLISECONDS);
		return afterPause;
	}

	private synchronized ExecutorService workers() {
		ExecutorService workers = this.workers;
		if (workers == null) {
			if (this.closed) {
				throw new RejectedExecutionException("The application is closing");
			}
			CustomizableThreadFactory threads = new CustomizableThreadFactory(this.threadNamePrefix + "call-");
			threads.setDaemon(true);
			workers = Executors.newCachedThreadPool(threads);
			this.workers = workers;
		}
		return workers;
	}

	private synchronized ScheduledExecutorService timer() {
		ScheduledExecutorService timer = this.timer;
		if (timer == null) {
			if (this.closed) {
				throw new RejectedExecutionException("The application is closing");
			}
			CustomizableThreadFactory threads = new CustomizableThreadFactory(this.threadNamePrefix);
			threads.setDaemon(true);
			ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, threads);
			// Closed, it drops the pauses still waiting, and lets the one under way end
			// uninterrupted.
			executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
			timer = executor;
			this.timer = timer;
		}
		return timer;
	}

	/**
	 * Stops the threads, letting what they run end: the stages of pauses still waiting
	 * are never completed, and later pauses are refused.
	 */
	synchronized void close() {
		this.closed = true;
		if (this.timer != null) {
			this.timer.shutdown();
		}
		if (this.workers != null) {
			this.workers.shutdown();
		}
	}

}
