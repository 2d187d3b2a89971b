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
 * Asked only when a listener's work met a duplicate or a store that did not answer, so a
 * lock costs nothing that matters.
 */
final class Pauses {

	private final String threadNamePrefix;

	// Both guarded by this: no thread is made once the application has closed.
	private @Nullable Threads threads;

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
		threads().timer().schedule(() -> afterPause.complete(value), millis(pause), TimeUnit.MILLISECONDS);
		return afterPause;
	}

	/**
	 * A stage that a thread of the pool completes once {@code pause} has passed; never
	 * completed if this is closed first.
	 * @throws RejectedExecutionException once closed
	 */
	CompletableFuture<Void> thenOnAThreadOfItsOwn(Duration pause) {
		CompletableFuture<Void> afterPause = new CompletableFuture<>();
		Threads threads = threads();
		threads.timer().schedule(() -> {
			try {
				threads.pool().execute(() -> afterPause.complete(null));
			}
			// Closed meanwhile.
			catch (RejectedExecutionException ex) {
			}
		}, millis(pause), TimeUnit.MILLISECONDS);
		return afterPause;
	}

	// At least a millisecond, so that the stage completes after its caller has asked to
	// be called back, not before.
	private static long millis(Duration pause) {
		return Math.max(1, pause.toMillis());
	}

	private synchronized Threads threads() {
		Threads threads = this.threads;
		if (threads == null) {
			if (this.closed) {
				throw new RejectedExecutionException("The application is closing");
			}
			CustomizableThreadFactory timerThread = new CustomizableThreadFactory(this.threadNamePrefix);
			timerThread.setDaemon(true);
			ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, timerThread);
			// Closed, it drops the pauses still waiting, and lets the one under way end
			// uninterrupted.
			timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
			CustomizableThreadFactory poolThreads = new CustomizableThreadFactory(this.threadNamePrefix + "call-");
			poolThreads.setDaemon(true);
			// Makes no thread until a pause needs one.
			threads = new Threads(timer, Executors.newCachedThreadPool(poolThreads));
			this.threads = threads;
		}
		return threads;
	}

	/**
	 * Stops the threads, letting what they run end: the stages of pauses still waiting
	 * are never completed, and later pauses are refused.
	 */
	synchronized void close() {
		this.closed = true;
		if (this.threads != null) {
			this.threads.timer().shutdown();
			this.threads.pool().shutdown();
		}
	}

	private record Threads(ScheduledExecutorService timer, ExecutorService pool) {

	}

}
