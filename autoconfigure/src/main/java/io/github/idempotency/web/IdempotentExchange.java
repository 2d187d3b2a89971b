package io.github.idempotency.web;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.Arrays;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionStage;

import io.github.idempotency.interceptor.Claim;
import io.github.idempotency.interceptor.IdempotentCall;
import io.github.idempotency.interceptor.IdempotentOperation;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;

import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.context.request.async.AsyncWebRequest;
import org.springframework.web.context.request.async.WebAsyncManager;
import org.springframework.web.context.request.async.WebAsyncUtils;
import org.springframework.web.method.HandlerMethod;

/**
 * One request to an idempotent handler, from the moment its body is buffered until its
 * response is stored or its claim released.
 *
 * <p>
 * The request's own steps run on the threads that dispatch it, one after another. Async
 * work the handler started (a {@code Callable}, a {@code DeferredResult}, a
 * {@code CompletableFuture}) reports its start and end from other threads, and may
 * outlive the request after an async timeout: the claim is then released only once that
 * work has stopped, so that a retry cannot run it a second time alongside. Those steps
 * are synchronized.
 */
final class IdempotentExchange implements IdempotentCall {

	/**
	 * Name of the request attribute holding the exchange of the request.
	 */
	static final String ATTRIBUTE = IdempotentExchange.class.getName();

	// Stands for no result of the work: a Callable may return null.
	private static final Object NO_RESULT = new Object();

	private final IdempotencyCoordinator coordinator;

	private final IdempotentOperation operation;

	private final HandlerMethod handler;

	private final HttpServletRequest request;

	private final byte @Nullable [] body;

	private final CapturedResponse response;

	private final AsyncWorkTracker asyncWork;

	private boolean begun;

	// The controller the handler first ran on, behind its proxy: advice that calls the
	// handler again calls it on the same one.
	private @Nullable Object handlerTarget;

	// What answered the request in the handler's stead: thrown again to every later call
	// of the handler for this request.
	private @Nullable Throwable refusal;

	// Set while the handler runs for this request, on the dispatching thread.
	private boolean handlerRunning;

	// The handler's last call for this request threw, or was refused: advice around it
	// may call it again. Set and read on the dispatching thread.
	private boolean threw;

	// Set and read by the threads that dispatch the request, one after another.
	private boolean awaitingErrorPage;

	private @Nullable Claim claim;

	private Work work = Work.NONE;

	// Whether the work's end is known from a future the handler returned, rather than
	// from the DeferredResult Spring MVC made of it.
	private boolean futureWork;

	private boolean releaseWhenWorkStops;

	// The response is not the outcome of the work: an async error, a client that went
	// away, or an exception after the body was committed cut it short.
	private boolean interrupted;

	// The request timed out before the work's result was dispatched: the response is the
	// timeout's, unless the work's result won the race to answer (timeoutHandled).
	private boolean timedOut;

	// The work's result won that race: it answers if it reaches the request in an async
	// dispatch, which a container may refuse while the request times out (Jetty does, and
	// renders an error page instead).
	private boolean workWonTheRace;

	// The request's timeout is being handled, from before Spring MVC's timeout handler
	// until after it.
	private boolean timingOut;

	// What the work produced, if the starter heard of it before any timeout: the
	// request's answer if Spring MVC dispatches that very object.
	private @Nullable Object workResult = NO_RESULT;

	// The work is a DeferredResult's, set going somewhere the starter cannot see.
	private boolean deferred;

	private boolean futureDone;

	// A DeferredResult's work timed out or failed: whatever result it got next (its own
	// fallback, say) says nothing of when the work behind it ends.
	private boolean deferredWorkUnknown;

	// How many async phases the request has begun: after the handler's own, Spring MVC
	// starts another when the first one's result is itself async.
	private int asyncPhases;

	// Spring MVC is about to start async processing for what a handler returned. Set
	// and read on the dispatching thread.
	private boolean asyncStartAnnounced;

	// The DispatcherServlet is done with the dispatch that runs the handler, or with the
	// async dispatch after its work. Set and read on the dispatching thread.
	private boolean dispatchEnded;

	// A filter started async processing after that: the answer is finished all the same
	// as the dispatch returns to the starter's filter. Set and read on the dispatching
	// thread.
	private boolean asyncStartedAfterTheAnswer;

	IdempotentExchange(IdempotencyCoordinator coordinator, IdempotentOperation operation, HandlerMethod handler,
			HttpServletRequest request, byte @Nullable [] body, CapturedResponse response, AsyncWorkTracker asyncWork) {
		this.coordinator = coordinator;
		this.operation = operation;
		this.handler = handler;
		this.request = request;
		this.body = body;
		this.response = response;
		this.asyncWork = asyncWork;
	}

	@Override
	public boolean beforeInvocation(@Nullable Object target, Method method, Object[] arguments) {
		// Only the handler speaks for the request: not an idempotent bean called while
		// binding, nor one the handler calls (itself included), which go their own way.
		if (this.handlerRunning || !isHandler(method)) {
			return false;
		}
		// Called again, by advice around the handler that retries it (Spring Framework
		// 7's @Retryable, which comes before every other advice): each attempt gets the
		// first one's answer. A refusal or replay is thrown again rather than let the
		// handler run; a claim covers the attempt as it covered the first one, whose
		// exception did not end the request; a request without idempotency stays so.
		if (this.begun) {
			// After a call that returned, the answer is the request's: a later call is
			// none of its own. Nor is a method of another bean with the handler's
			// signature (a service an exception handler or a fallback calls, which may
			// implement the controller's very interface): it goes its own way.
			if (!this.threw || target != this.handlerTarget) {
				return false;
			}
			if (this.refusal != null) {
				throw rethrown(this.refusal);
			}
			this.threw = false;
			this.handlerRunning = true;
			return true;
		}
		this.begun = true;
		this.handlerTarget = target;
		// On idempotent requests only: Spring MVC puts the interceptors of its
		// configuration into every request, under keys it builds each time. Registered
		// after those, as post-processing runs in reverse order and stops at the first
		// failure: the tracker learns of the work's end before any of them can fail.
		WebAsyncManager asyncManager = WebAsyncUtils.getAsyncManager(this.request);
		asyncManager.registerCallableInterceptor(AsyncWorkTracker.class, this.asyncWork);
		asyncManager.registerDeferredResultInterceptor(AsyncWorkTracker.class, this.asyncWork);
		try {
			this.coordinator.begin(this, method, arguments);
		}
		catch (Throwable ex) {
			this.refusal = ex;
			this.threw = true;
			throw ex;
		}
		this.handlerRunning = true;
		return true;
	}

	// A checked exception can only have been thrown sneakily (by a scope resolver written
	// in Kotlin, say): it is thrown again declared.
	private static RuntimeException rethrown(Throwable refusal) {
		if (refusal instanceof Error error) {
			throw error;
		}
		return (refusal instanceof RuntimeException runtime) ? runtime : new UndeclaredThrowableException(refusal);
	}

	@Override
	public void afterThrowing(Method method, Throwable failure) {
		this.handlerRunning = false;
		this.threw = true;
	}

	@Override
	public void afterInvocation(Method method, @Nullable Object result) {
		this.handlerRunning = false;
		noteAsyncTimeoutsAndErrors();
		if (result instanceof CompletionStage<?> future) {
			synchronized (this) {
				this.futureWork = true;
				this.work = Work.RUNNING;
			}
			// Spring MVC cancels the future when the request times out; the work that
			// would complete it may go on, so a cancellation says nothing of its end.
			future.whenComplete((value, failure) -> {
				if (!(failure instanceof CancellationException)) {
					synchronized (this) {
						this.futureDone = true;
					}
					workStopped();
				}
			});
		}
	}

	// Registered on the async request before Spring MVC starts async processing, and so
	// run before its own timeout and error handlers, which set results (a
	// DeferredResult's fallback among them) that would pass for the end of the work. A
	// result that was already there when the timeout or error came is the work's own,
	// and stands; so may one that comes while the timeout is handled.
	private void noteAsyncTimeoutsAndErrors() {
		WebAsyncManager manager = WebAsyncUtils.getAsyncManager(this.request);
		AsyncWebRequest async = manager.getAsyncWebRequest();
		if (async != null) {
			async.addTimeoutHandler(() -> timeoutStarting(manager));
			async.addErrorHandler((failure) -> asyncFailed(manager));
		}
	}

	private boolean isHandler(Method method) {
		Method handlerMethod = this.handler.getMethod();
		return method.getName().equals(handlerMethod.getName())
				&& Arrays.equals(method.getParameterTypes(), handlerMethod.getParameterTypes());
	}

	/**
	 * Stores or releases the claim, then sends the body held back.
	 */
	void finish(@Nullable Throwable failure) throws IOException {
		finish(this.response, failure);
	}

	/**
	 * Stores the response as the answer, or releases the claim, then sends the body held
	 * back, unless a failure escaped while it was written.
	 * @param response the handler's response, or the error page's that stands for it
	 * @param failure what escaped while it was written, if anything
	 */
	void finish(CapturedResponse response, @Nullable Throwable failure) throws IOException {
		try {
			this.coordinator.finish(this, response, failure);
		}
		finally {
			if (failure != null) {
				response.discardHeld();
			}
			else {
				response.release();
			}
		}
	}

	/**
	 * Whether the handler's answer went to the container's error page and is one to
	 * store: what {@link #keepOpenForErrorPage()} keeps the claim open for.
	 */
	boolean hasAnswerForErrorPage() {
		return this.claim != null && this.coordinator.isStoredFromErrorPage(this, this.response);
	}

	/**
	 * Keeps the claim open for the container's error page, once
	 * {@link #hasAnswerForErrorPage()} has found an answer there to store. The lease is
	 * no longer renewed: the work is over, and a page that never comes must not hold the
	 * key past the lock timeout.
	 */
	void keepOpenForErrorPage() {
		Claim claim = this.claim;
		if (claim != null) {
			claim.stopRenewal();
			this.awaitingErrorPage = true;
		}
	}

	boolean isAwaitingErrorPage() {
		return this.awaitingErrorPage;
	}

	/**
	 * The container renders the error page into the response this returns, which holds
	 * its body back until {@link #finish(CapturedResponse, Throwable)} has stored it.
	 */
	CapturedResponse errorPageStarting(HttpServletResponse response) {
		this.awaitingErrorPage = false;
		return new CapturedResponse(response, this.coordinator.policy().maxResponseSize(), false);
	}

	/**
	 * The request ended without the error page it waited for.
	 */
	void errorPageMissed() {
		this.awaitingErrorPage = false;
		this.coordinator.releaseNow(this);
	}

	/**
	 * Spring MVC is about to start async processing for what a handler returned, which
	 * the exchange follows to its end.
	 */
	void asyncStartAnnounced() {
		this.asyncStartAnnounced = true;
	}

	/**
	 * Whether async processing starting now on a request that holds its claim goes
	 * unannounced by Spring MVC: started by the handler, or by a filter, interceptor or
	 * advice on its request. The announcement is used up.
	 */
	boolean isAsyncStartUnannounced() {
		boolean announced = this.asyncStartAnnounced;
		this.asyncStartAnnounced = false;
		return this.claim != null && !announced;
	}

	/**
	 * The {@code DispatcherServlet} is done with the request's dispatch: the answer is
	 * whole, short of what filters write on the way out.
	 */
	void dispatchEnded() {
		this.dispatchEnded = true;
	}

	boolean isDispatchEnded() {
		return this.dispatchEnded;
	}

	/**
	 * A filter started async processing once the answer was whole, which the starter's
	 * filter then finishes as the dispatch returns to it, as if it had not.
	 */
	void asyncStartedAfterTheAnswer() {
		this.asyncStartedAfterTheAnswer = true;
	}

	boolean isAsyncStartedAfterTheAnswer() {
		return this.asyncStartedAfterTheAnswer;
	}

	/**
	 * Async work was handed to an executor: it has not started yet.
	 */
	synchronized void workSubmitted(NativeWebRequest asyncRequest) {
		noteTimeoutHandled(asyncRequest);
		this.asyncPhases++;
		this.work = Work.PENDING;
	}

	/**
	 * Async work the handler set going elsewhere (a {@code DeferredResult}) runs from
	 * now.
	 * @param asyncRequest the async request Spring MVC waits for its result on
	 */
	synchronized void workRunning(NativeWebRequest asyncRequest) {
		noteTimeoutHandled(asyncRequest);
		this.deferred = true;
		if (!this.futureWork) {
			this.work = Work.RUNNING;
		}
		// A later async phase (the DeferredResult a Callable returned, say) has an async
		// request of its own, on which Spring MVC's timeout and error handlers come
		// first: by the time these run, they may have set the result (an error, or the
		// DeferredResult's own fallback), which then says nothing of the work's end.
		if (this.asyncPhases++ > 0 && asyncRequest instanceof AsyncWebRequest later) {
			later.addTimeoutHandler(this::laterPhaseInterrupted);
			later.addErrorHandler((failure) -> laterPhaseInterrupted());
		}
	}

	// Registered as Spring MVC starts the async processing of what the handler returned,
	// after its own timeout handler.
	private void noteTimeoutHandled(NativeWebRequest asyncRequest) {
		if (this.asyncPhases == 0 && asyncRequest instanceof AsyncWebRequest async) {
			WebAsyncManager manager = WebAsyncUtils.getAsyncManager(asyncRequest);
			async.addTimeoutHandler(() -> timeoutHandled(manager));
		}
	}

	private synchronized void laterPhaseInterrupted() {
		this.interrupted = true;
		this.deferredWorkUnknown = true;
		if (this.work == Work.STOPPED) {
			this.work = Work.RUNNING;
		}
	}

	/**
	 * Submitted async work is about to start.
	 * @return {@code false} if it must not: the claim was released while it waited
	 */
	synchronized boolean workStarting() {
		if (this.work == Work.ABANDONED) {
			return false;
		}
		this.work = Work.RUNNING;
		return true;
	}

	/**
	 * Submitted async work returned, or threw.
	 * @param result what it returned, or threw
	 */
	void workReturned(@Nullable Object result) {
		synchronized (this) {
			// A Callable that returns once the timeout interrupted it may return what
			// it had done so far.
			if (!this.timedOut) {
				this.workResult = result;
			}
		}
		workStopped();
	}

	/**
	 * A {@code DeferredResult} got its result. Only in time, before any timeout (even if
	 * its answer then races the timeout's), does that mean its work has ended; once a
	 * timeout or an error came, its end cannot be known.
	 * @param result the result
	 */
	void deferredResultSet(@Nullable Object result) {
		synchronized (this) {
			// The timeout's answer (the DeferredResult's own fallback, or Spring MVC's),
			// or one the timeout brought about: a timeout callback that cancels the work,
			// whose thread then sets what it had, or an error.
			if (this.timedOut && !this.futureWork) {
				this.deferredWorkUnknown = true;
				return;
			}
			if (this.deferredWorkUnknown
					|| (this.futureWork && (this.interrupted || this.timedOut) && !this.futureDone)) {
				return;
			}
			this.workResult = result;
		}
		workStopped();
	}

	/**
	 * The request timed out before its async work's result was dispatched: until Spring
	 * MVC's timeout handler has run, the response is taken for the timeout's.
	 */
	private synchronized void timeoutStarting(WebAsyncManager manager) {
		if (manager.hasConcurrentResult()) {
			return;
		}
		this.timedOut = true;
		this.timingOut = true;
	}

	/**
	 * Spring MVC's timeout handler has run. It sets the timeout's answer unless the
	 * work's result was set first, which then answers the request as if in time once it
	 * is dispatched: a result the starter heard of before the timeout, and for a Callable
	 * the very one Spring MVC holds. A future's end is heard apart from its result, and
	 * stays unknown. Otherwise a {@code DeferredResult}'s end can no longer be known.
	 */
	private synchronized void timeoutHandled(WebAsyncManager manager) {
		if (!this.timingOut) {
			return;
		}
		this.timingOut = false;
		boolean workAnswered = (this.workResult != NO_RESULT)
				&& ((this.deferred) ? !this.futureWork : manager.getConcurrentResult() == this.workResult);
		if (workAnswered) {
			this.workWonTheRace = true;
		}
		else if (this.deferred && !this.futureWork) {
			this.deferredWorkUnknown = true;
		}
	}

	/**
	 * The request is dispatched again to answer with what its async work produced, or
	 * with the answer Spring MVC made in its stead.
	 */
	synchronized void asyncDispatched() {
		if (this.workWonTheRace) {
			this.workWonTheRace = false;
			this.timedOut = false;
		}
	}

	/**
	 * The request failed before its async work produced a result: the response that
	 * follows is not that work's outcome, and a {@code DeferredResult}'s end can no
	 * longer be known.
	 */
	private synchronized void asyncFailed(WebAsyncManager manager) {
		if (manager.hasConcurrentResult()) {
			return;
		}
		this.interrupted = true;
		if (this.deferred && !this.futureWork) {
			this.deferredWorkUnknown = true;
		}
	}

	/**
	 * The response was cut short or replaced by an error after the handler ran, so it
	 * must not be stored.
	 */
	synchronized void interrupted() {
		this.interrupted = true;
	}

	synchronized boolean isInterrupted() {
		return this.interrupted || this.timedOut;
	}

	/**
	 * Async work ended, however it ended.
	 */
	void workStopped() {
		synchronized (this) {
			if (this.work == Work.ABANDONED) {
				return;
			}
			this.work = Work.STOPPED;
			if (!this.releaseWhenWorkStops) {
				return;
			}
			this.releaseWhenWorkStops = false;
		}
		this.coordinator.releaseNow(this);
	}

	/**
	 * Whether the claim must stay held, rather than be released now, because async work
	 * of the request may still run; it is then released when that work stops. Work that
	 * was submitted but has not started is abandoned instead: it will not start.
	 */
	synchronized boolean holdForRunningWork() {
		if (this.work == Work.PENDING) {
			this.work = Work.ABANDONED;
			return false;
		}
		if (this.work == Work.RUNNING) {
			this.releaseWhenWorkStops = true;
			return true;
		}
		return false;
	}

	synchronized boolean isWorkRunning() {
		return this.work == Work.RUNNING || this.work == Work.PENDING;
	}

	void claimed(Claim claim) {
		this.claim = claim;
	}

	IdempotentOperation operation() {
		return this.operation;
	}

	/**
	 * The response the handler's answer is captured in.
	 */
	CapturedResponse response() {
		return this.response;
	}

	HttpServletRequest request() {
		return this.request;
	}

	byte @Nullable [] body() {
		return this.body;
	}

	/**
	 * The claim this request holds, or {@code null} if it runs without one: no key where
	 * one is optional, or the store failed and the policy lets it proceed.
	 */
	@Nullable Claim claim() {
		return this.claim;
	}

	private enum Work {

		NONE, PENDING, RUNNING, STOPPED, ABANDONED

	}

}
