package io.github.idempotency.web.edge;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.github.idempotency.web.app.Executions;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.aopalliance.intercept.MethodInterceptor;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.Advisor;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.Ordered;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.filter.UrlHandlerFilter;
import org.springframework.web.context.request.async.AsyncWebRequest;
import org.springframework.web.context.request.async.CallableProcessingInterceptor;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.context.request.async.DeferredResultProcessingInterceptor;
import org.springframework.web.context.request.async.WebAsyncManager;
import org.springframework.web.context.request.async.WebAsyncUtils;
import org.springframework.web.servlet.config.annotation.AsyncSupportConfigurer;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.AsyncHandlerInterceptor;
import org.springframework.web.servlet.View;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;
import org.springframework.web.util.ContentCachingResponseWrapper;
import org.springframework.web.servlet.view.InternalResourceView;

/**
 * An application shaped like the ones users really have, around idempotent endpoints: a
 * body-logging filter, async handlers with a request timeout shorter than their work,
 * class-level annotations with binder and exception-handler methods, method validation,
 * streaming responses. Without Spring Security, whose firewall would hide what the
 * starter itself must get right about header values; the security-related cases run in
 * the main test application.
 */
@SpringBootApplication(excludeName = {
		"org.springframework.boot.autoconfigure.security.servlet.SecurityAutoConfiguration",
		"org.springframework.boot.autoconfigure.security.servlet.SecurityFilterAutoConfiguration",
		"org.springframework.boot.autoconfigure.security.servlet.UserDetailsServiceAutoConfiguration",
		"org.springframework.boot.actuate.autoconfigure.security.servlet.ManagementWebSecurityAutoConfiguration",
		"org.springframework.boot.security.autoconfigure.SecurityAutoConfiguration",
		"org.springframework.boot.security.autoconfigure.UserDetailsServiceAutoConfiguration",
		"org.springframework.boot.security.autoconfigure.web.servlet.SecurityFilterAutoConfiguration",
		"org.springframework.boot.security.autoconfigure.web.servlet.ServletWebSecurityAutoConfiguration",
		"org.springframework.boot.security.autoconfigure.actuate.web.servlet.ManagementWebSecurityAutoConfiguration" })
@Import(Executions.class)
public class EdgeApplication {

	/**
	 * Asked by a request, an async interceptor of the application's own fails once the
	 * work of a {@code DeferredResult} is done, as one that restores a context may.
	 */
	public static final String FAIL_POST_PROCESS = "X-Fail-Post-Process";

	/**
	 * Asked by a request, async interceptors of the application's hold the result of its
	 * work back from Spring MVC until the request times out, then let it through while
	 * Spring MVC handles the timeout and wait until it has won: the work answers the
	 * request, not the timeout, as it may when the two come at once.
	 */
	public static final String WORK_ANSWERS_DURING_TIMEOUT = "X-Work-Answers-During-Timeout";

	/**
	 * Asked by a request, a filter of the application's turns it async once the handler
	 * answered, and completes it from another thread without a dispatch, as one that
	 * paces answers might.
	 */
	public static final String ASYNC_AFTER_THE_CHAIN = "X-Async-After-The-Chain";

	/**
	 * Asked by a request, a filter of the application's turns it async before the
	 * handler: "same-thread" goes on down the chain and completes it once the chain
	 * returns, as a filter that times requests out might; "dispatch" hands it on in an
	 * async dispatch, as one that queues requests might.
	 */
	public static final String ASYNC_BEFORE_THE_CHAIN = "X-Async-Before-The-Chain";

	@Bean
	FilterRegistrationBean<Filter> asyncBeforeTheChain() {
		Filter filter = (request, response, chain) -> {
			String how = ((HttpServletRequest) request).getHeader(ASYNC_BEFORE_THE_CHAIN);
			if ("same-thread".equals(how)) {
				AsyncContext async = request.startAsync(request, response);
				chain.doFilter(request, response);
				async.complete();
			}
			else if ("dispatch".equals(how)) {
				request.startAsync(request, response).dispatch();
			}
			else {
				chain.doFilter(request, response);
			}
		};
		return new FilterRegistrationBean<>(filter);
	}

	@Bean
	FilterRegistrationBean<Filter> asyncAfterTheChain() {
		Filter filter = (request, response, chain) -> {
			String how = ((HttpServletRequest) request).getHeader(ASYNC_AFTER_THE_CHAIN);
			// "buffered": the body reaches the response only after async processing
			// started, as through a body-logging filter between the starter's and this.
			ContentCachingResponseWrapper buffered = "buffered".equals(how)
					? new ContentCachingResponseWrapper((HttpServletResponse) response) : null;
			chain.doFilter(request, (buffered != null) ? buffered : response);
			if (how != null) {
				AsyncContext async = request.startAsync();
				CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS).execute(async::complete);
			}
			if (buffered != null) {
				buffered.copyBodyToResponse();
			}
		};
		return new FilterRegistrationBean<>(filter);
	}

	// Takes the trailing slash off a path once the starter's filter has seen it, as
	// Spring's filter does when declared without an order.
	@Bean
	FilterRegistrationBean<UrlHandlerFilter> trailingSlashAfterTheStarter() {
		return new FilterRegistrationBean<>(
				UrlHandlerFilter.trailingSlashHandler("/edge/payments/**").wrapRequest().build());
	}

	// Ordered before the starter's advice, as Spring Framework 7's @Retryable always is.
	@Bean
	static Advisor retryOnFailure() {
		DefaultPointcutAdvisor advisor = new DefaultPointcutAdvisor(
				AnnotationMatchingPointcut.forMethodAnnotation(RetriedController.RetriedOnFailure.class),
				(MethodInterceptor) RetriedController::retry);
		advisor.setOrder(Ordered.HIGHEST_PRECEDENCE);
		return advisor;
	}

	@Bean
	ServletRegistrationBean<AnsweringServlet> answeringServlet() {
		return new ServletRegistrationBean<>(new AnsweringServlet(), AnsweringServlet.PATH);
	}

	// The error view of an application whose pages are JSPs: a forward to a servlet of
	// its own, rendered for clients that accept HTML.
	@Bean
	View error() {
		return new InternalResourceView(AnsweringServlet.PATH);
	}

	// The starter's filter is ordered -90; Boot orders a filter without an order last.
	@Bean
	FilterRegistrationBean<GzipRequestFilter> gzipBeforeTheStarter() {
		FilterRegistrationBean<GzipRequestFilter> registration = new FilterRegistrationBean<>(
				new GzipRequestFilter("gzip", GzipRequestFilter.Streams.EACH_CALL));
		registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
		return registration;
	}

	@Bean
	FilterRegistrationBean<GzipRequestFilter> gzipAfterTheStarter() {
		return new FilterRegistrationBean<>(new GzipRequestFilter("gzip-after", GzipRequestFilter.Streams.EACH_CALL));
	}

	@Bean
	FilterRegistrationBean<GzipRequestFilter> gzipAfterTheStarterOneStream() {
		return new FilterRegistrationBean<>(
				new GzipRequestFilter("gzip-after-one-stream", GzipRequestFilter.Streams.ONE));
	}

	@Bean
	FilterRegistrationBean<GzipRequestFilter> gzipAfterTheStarterOneStreamMadeAtOnce() {
		return new FilterRegistrationBean<>(
				new GzipRequestFilter("gzip-after-made-at-once", GzipRequestFilter.Streams.ONE_MADE_AT_ONCE));
	}

	@Bean
	FilterRegistrationBean<SignedBodyCheck.RereadableBodyFilter> rereadableBodyFilter() {
		return new FilterRegistrationBean<>(new SignedBodyCheck.RereadableBodyFilter());
	}

	@Bean
	WebMvcConfigurer signatureInterceptor() {
		return new WebMvcConfigurer() {
			@Override
			public void addInterceptors(InterceptorRegistry registry) {
				registry.addInterceptor(new SignedBodyCheck.SignatureInterceptor()).addPathPatterns("/edge/**");
			}
		};
	}

	@Bean
	WebMvcConfigurer workAnsweringDuringTimeout(Gates gates) {
		return new WebMvcConfigurer() {
			// A DeferredResult set before Spring MVC is done starting async processing
			// is handled on the handler's own dispatch, which nothing must hold.
			@Override
			public void addInterceptors(InterceptorRegistry registry) {
				registry.addInterceptor(new AsyncHandlerInterceptor() {
					@Override
					public void afterConcurrentHandlingStarted(HttpServletRequest request, HttpServletResponse response,
							Object handler) {
						if (request.getHeader(WORK_ANSWERS_DURING_TIMEOUT) != null) {
							gates.release(request.getHeader("X-Test-Name") + " returned");
						}
					}
				});
			}

			@Override
			public void configureAsyncSupport(AsyncSupportConfigurer configurer) {
				configurer.registerCallableInterceptors(new CallableProcessingInterceptor() {
					@Override
					public <T> void postProcess(NativeWebRequest request, Callable<T> task,
							@Nullable Object concurrentResult) {
						holdUntilTimedOut(gates, request);
					}

					// Inside Spring MVC's timeout handler, before it sets the timeout's
					// answer.
					@Override
					public <T> Object handleTimeout(NativeWebRequest request, Callable<T> task) {
						letThroughAndAwaitIt(gates, request);
						return RESULT_NONE;
					}
				});
				configurer.registerDeferredResultInterceptors(new DeferredResultProcessingInterceptor() {
					// A DeferredResult that has its result ends Spring MVC's timeout
					// handler
					// before any interceptor hears of the timeout: heard here, after it.
					@Override
					public <T> void beforeConcurrentHandling(NativeWebRequest request,
							DeferredResult<T> deferredResult) {
						if (request.getHeader(WORK_ANSWERS_DURING_TIMEOUT) != null
								&& request instanceof AsyncWebRequest async) {
							async.addTimeoutHandler(() -> letThroughAndAwaitIt(gates, request));
						}
					}

					@Override
					public <T> void postProcess(NativeWebRequest request, DeferredResult<T> deferredResult,
							@Nullable Object concurrentResult) {
						holdUntilTimedOut(gates, request);
					}
				});
			}
		};
	}

	// On the work's thread, which Spring MVC interrupts on timeout.
	private static void holdUntilTimedOut(Gates gates, NativeWebRequest request) {
		if (request.getHeader(WORK_ANSWERS_DURING_TIMEOUT) == null) {
			return;
		}
		CountDownLatch timedOut = gates.open(request.getHeader("X-Test-Name") + " timed out");
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		boolean interrupted = false;
		while (timedOut.getCount() > 0 && System.nanoTime() < deadline) {
			try {
				timedOut.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
			}
			catch (InterruptedException ex) {
				interrupted = true;
			}
		}
		if (interrupted) {
			Thread.currentThread().interrupt();
		}
	}

	private static void letThroughAndAwaitIt(Gates gates, NativeWebRequest request) {
		if (request.getHeader(WORK_ANSWERS_DURING_TIMEOUT) == null) {
			return;
		}
		gates.release(request.getHeader("X-Test-Name") + " timed out");
		WebAsyncManager manager = WebAsyncUtils.getAsyncManager(request);
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		while (!manager.hasConcurrentResult() && System.nanoTime() < deadline) {
			LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
		}
	}

	@Bean
	WebMvcConfigurer failingAsyncInterceptor() {
		return new WebMvcConfigurer() {
			@Override
			public void configureAsyncSupport(AsyncSupportConfigurer configurer) {
				configurer.registerDeferredResultInterceptors(new DeferredResultProcessingInterceptor() {
					@Override
					public <T> void postProcess(NativeWebRequest request, DeferredResult<T> deferredResult,
							@Nullable Object concurrentResult) {
						if (request.getHeader(FAIL_POST_PROCESS) != null) {
							throw new IllegalStateException("The application's post-processing failed");
						}
					}
				});
			}
		};
	}

}
