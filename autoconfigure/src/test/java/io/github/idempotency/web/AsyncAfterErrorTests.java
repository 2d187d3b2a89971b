package io.github.idempotency.web;

import java.net.http.HttpResponse;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.autoconfigure.IdempotencyProperties;
import io.github.idempotency.autoconfigure.IdempotencyWebMvcAutoConfiguration;
import io.github.idempotency.web.edge.EdgeApplication;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletResponse;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A request whose claim waits for its error page can still turn async once the handler is
 * done: here a filter outside the starter's finishes refused requests asynchronously, and
 * the starter's filter, registered by the application without its error dispatch, never
 * sees the page. The claim is released when that async work completes, not held until the
 * lock times out.
 */
@SpringBootTest(classes = { EdgeApplication.class, AsyncAfterErrorTests.Config.class },
		webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "idempotency.key-prefix=async-after-error-test")
class AsyncAfterErrorTests extends AbstractWebTests {

	@Test
	void requestThatTurnsAsyncAfterItsErrorShouldReleaseTheKeyWhenItCompletes() throws InterruptedException {
		HttpResponse<byte[]> first = this.http.post("/edge/refused-after-work").key(this.key).name(this.key).send();
		assertThat(first.statusCode()).isEqualTo(409);

		// The claim is released as the async work completes, around when the client
		// hears the answer; held, it would refuse retries for the lock timeout (30 s).
		HttpResponse<byte[]> retry = null;
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
		while (System.nanoTime() < deadline) {
			retry = this.http.post("/edge/refused-after-work").key(this.key).name(this.key).send();
			if (!retry.headers().firstValue("Content-Type").equals(Optional.of("application/problem+json"))) {
				break;
			}
			Thread.sleep(20);
		}
		assertThat(retry.headers().firstValue("Content-Type")).isNotEqualTo(Optional.of("application/problem+json"));
		assertThat(this.executions.count(this.key)).isEqualTo(2);
	}

	@TestConfiguration(proxyBeanMethods = false)
	static class Config {

		@Bean(IdempotencyWebMvcAutoConfiguration.FILTER_REGISTRATION_BEAN_NAME)
		FilterRegistrationBean<IdempotencyFilter> idempotencyFilterWithoutErrorDispatch(
				IdempotentRequestMatcher matcher, IdempotencyProperties properties) {
			FilterRegistrationBean<IdempotencyFilter> registration = new FilterRegistrationBean<>(
					new IdempotencyFilter(matcher, properties.getMaxBodySize().toBytes()));
			registration.setOrder(IdempotencyWebMvcAutoConfiguration.FILTER_ORDER);
			registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.FORWARD);
			return registration;
		}

		@Bean
		FilterRegistrationBean<Filter> refusalsFinishedAsynchronously() {
			Filter filter = (request, response, chain) -> {
				chain.doFilter(request, response);
				if (((HttpServletResponse) response).getStatus() == 409 && !request.isAsyncStarted()) {
					AsyncContext async = request.startAsync();
					CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS).execute(async::complete);
				}
			};
			FilterRegistrationBean<Filter> registration = new FilterRegistrationBean<>(filter);
			registration.setOrder(IdempotencyWebMvcAutoConfiguration.FILTER_ORDER - 1);
			return registration;
		}

	}

}
