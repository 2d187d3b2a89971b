package io.github.idempotency.web;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.http.HttpEntity;
import org.springframework.http.ResponseEntity;
import org.springframework.util.ReflectionUtils;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.context.request.async.WebAsyncTask;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which handlers Spring MVC may answer for asynchronously, as the starter tells them
 * apart to refuse them in includes: it decides from the class of the value returned, so a
 * declared type that could hold an async value counts too.
 */
class AsyncAnswerTests {

	@ParameterizedTest
	@ValueSource(strings = { "callable", "webAsyncTask", "deferredResult", "completableFuture", "stream",
			"streamInResponseEntity", "streamInHttpEntity", "mono", "flux", "monoInResponseEntity", "anything" })
	void handlerThatMayAnswerAsynchronouslyShouldBeTold(String name) {
		assertThat(IdempotentHandlerVerifier.mayAnswerAsynchronously(handler(name))).isTrue();
	}

	@ParameterizedTest
	@ValueSource(
			strings = { "text", "nothing", "textInResponseEntity", "anyBodyInResponseEntity", "rawResponseEntity" })
	void handlerThatAnswersSynchronouslyShouldBeTold(String name) {
		assertThat(IdempotentHandlerVerifier.mayAnswerAsynchronously(handler(name))).isFalse();
	}

	private static HandlerMethod handler(String name) {
		return new HandlerMethod(new Handlers(), ReflectionUtils.findMethod(Handlers.class, name));
	}

	@SuppressWarnings("rawtypes")
	static class Handlers {

		Callable<String> callable() {
			return null;
		}

		WebAsyncTask<String> webAsyncTask() {
			return null;
		}

		DeferredResult<String> deferredResult() {
			return null;
		}

		CompletableFuture<String> completableFuture() {
			return null;
		}

		StreamingResponseBody stream() {
			return null;
		}

		ResponseEntity<StreamingResponseBody> streamInResponseEntity() {
			return null;
		}

		HttpEntity<StreamingResponseBody> streamInHttpEntity() {
			return null;
		}

		Mono<String> mono() {
			return null;
		}

		Flux<String> flux() {
			return null;
		}

		ResponseEntity<Mono<String>> monoInResponseEntity() {
			return null;
		}

		Object anything() {
			return null;
		}

		String text() {
			return null;
		}

		void nothing() {
		}

		ResponseEntity<String> textInResponseEntity() {
			return null;
		}

		ResponseEntity<?> anyBodyInResponseEntity() {
			return null;
		}

		ResponseEntity rawResponseEntity() {
			return null;
		}

	}

}
