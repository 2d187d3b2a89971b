package io.github.idempotency.autoconfigure;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.interceptor.IdempotencyInterceptor;
import io.github.idempotency.test.BootLine;
import jakarta.validation.constraints.Min;
import org.aspectj.lang.ProceedingJoinPoint;
import org.aspectj.lang.annotation.Around;
import org.aspectj.lang.annotation.Aspect;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;

import org.springframework.aop.Advisor;
import org.springframework.aop.aspectj.AspectJAroundAdvice;
import org.springframework.aop.framework.Advised;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.ResponseEntity;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.security.access.prepost.PreAuthorize;
import org.springframework.security.config.annotation.method.configuration.EnableMethodSecurity;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.interceptor.TransactionInterceptor;
import org.springframework.validation.annotation.Validated;
import org.springframework.validation.beanvalidation.MethodValidationInterceptor;
import org.springframework.validation.beanvalidation.MethodValidationPostProcessor;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Where the idempotency advice sits among the others, and what the starter refuses at
 * startup rather than leave an annotation without effect.
 */
class AdviceOrderTests {

	private final WebApplicationContextRunner runner = new WebApplicationContextRunner().withConfiguration(
			AutoConfigurations.of(IdempotencyAutoConfiguration.class, IdempotencyWebMvcAutoConfiguration.class,
					BootLine.webMvcAutoConfiguration(), AopAutoConfiguration.class));

	@Test
	void adviceShouldRunAfterSecurityAndValidationAndOutsideTransactionsAndRetries() {
		this.runner.withUserConfiguration(AdvisedApplication.class).run((context) -> {
			assertThat(context).hasNotFailed();
			List<String> chain = adviceChain(context.getBean(PaymentsController.class));
			assertThat(chain).containsSubsequence("method security", MethodValidationInterceptor.class.getName(),
					IdempotencyInterceptor.class.getName(), AspectJAroundAdvice.class.getName(),
					TransactionInterceptor.class.getName());
		});
	}

	@Test
	void finalHandlerMethodShouldFailStartupNamingIt() {
		this.runner.withUserConfiguration(FinalHandlerController.class).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(rootMessage(context.getStartupFailure())).contains("FinalHandlerController.pay")
				.contains("is final");
		});
	}

	@Test
	void handlersWithoutAutoProxyingShouldFailStartup() {
		this.runner.withPropertyValues("spring.aop.auto=false")
			.withUserConfiguration(PlainController.class)
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(rootMessage(context.getStartupFailure())).contains("PlainController.pay")
					.contains("spring.aop.auto");
			});
	}

	@Test
	void eventStreamHandlerShouldFailStartup() {
		this.runner.withUserConfiguration(EventsController.class).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(rootMessage(context.getStartupFailure())).contains("EventsController.events")
				.contains("SseEmitter");
		});
	}

	@ParameterizedTest
	@ValueSource(classes = { ServerSentEventsController.class, TextStreamController.class,
			ProducedEventStreamController.class, ProducedJsonStreamController.class })
	void reactiveStreamSpringMvcStreamsShouldFailStartup(Class<?> controller) {
		this.runner.withUserConfiguration(controller).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(rootMessage(context.getStartupFailure())).contains(controller.getSimpleName() + ".events")
				.contains("Flux");
		});
	}

	// One method, inherited by two controllers: streamed for one of them only.
	@Test
	void inheritedHandlerShouldBeCheckedForEachController() {
		this.runner.withUserConfiguration(CollectedEventsController.class, StreamedEventsController.class)
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(rootMessage(context.getStartupFailure())).contains("StreamedEventsController.events");
			});
	}

	// Collected into one JSON array, replayed as any body.
	@Test
	void reactiveStreamSpringMvcCollectsShouldStart() {
		this.runner.withUserConfiguration(CollectedStreamController.class)
			.run((context) -> assertThat(context).hasNotFailed());
	}

	@Test
	void annotationOnExceptionHandlerShouldFailStartup() {
		this.runner.withUserConfiguration(ExceptionHandlerController.class).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(rootMessage(context.getStartupFailure())).contains("ExceptionHandlerController.failed")
				.contains("only handler methods");
		});
	}

	// Spring Security wraps its interceptors in types of its own, which differ between
	// its versions.
	private static List<String> adviceChain(Object bean) {
		List<String> chain = new ArrayList<>();
		for (Advisor advisor : ((Advised) bean).getAdvisors()) {
			String name = advisor.getAdvice().getClass().getName();
			chain.add(name.startsWith("org.springframework.security.") ? "method security" : name);
		}
		return chain;
	}

	private static String rootMessage(Throwable failure) {
		StringBuilder messages = new StringBuilder();
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			messages.append(cause.getMessage()).append('\n');
		}
		return messages.toString();
	}

	@Configuration(proxyBeanMethods = false)
	@EnableMethodSecurity
	@EnableTransactionManagement
	static class AdvisedApplication {

		@Bean
		static MethodValidationPostProcessor methodValidationPostProcessor() {
			return new MethodValidationPostProcessor();
		}

		@Bean
		PaymentsController paymentsController() {
			return new PaymentsController();
		}

		@Bean
		RetryingAspect retryingAspect() {
			return new RetryingAspect();
		}

	}

	/**
	 * Marks a method an aspect retries.
	 */
	@Retention(RetentionPolicy.RUNTIME)
	@Target(ElementType.METHOD)
	@interface Retried {

	}

	/**
	 * An aspect at the order Resilience4j gives its retry aspect by default (its circuit
	 * breaker, rate limiter, time limiter and bulkhead aspects follow it, closer still to
	 * the lowest precedence).
	 */
	@Aspect
	@Order(Ordered.LOWEST_PRECEDENCE - 4)
	static class RetryingAspect {

		@Around("@annotation(io.github.idempotency.autoconfigure.AdviceOrderTests.Retried)")
		Object retry(ProceedingJoinPoint call) throws Throwable {
			try {
				return call.proceed();
			}
			catch (RuntimeException ex) {
				return call.proceed();
			}
		}

	}

	@RestController
	@Validated
	static class PaymentsController {

		@PostMapping("/payments")
		@Idempotent
		@PreAuthorize("hasRole('PAYER')")
		@Retried
		@Transactional
		public String pay(@RequestParam @Min(1) int amount) {
			return "paid " + amount;
		}

	}

	@RestController
	static class FinalHandlerController {

		@PostMapping("/final")
		@Idempotent
		public final String pay() {
			return "paid";
		}

	}

	@RestController
	static class PlainController {

		@PostMapping("/plain")
		@Idempotent
		public String pay() {
			return "paid";
		}

	}

	@RestController
	static class EventsController {

		@PostMapping("/events")
		@Idempotent
		public SseEmitter events() {
			return new SseEmitter();
		}

	}

	@RestController
	static class ServerSentEventsController {

		@PostMapping("/events")
		@Idempotent
		public Flux<ServerSentEvent<String>> events() {
			return Flux.just(ServerSentEvent.builder("paid").build());
		}

	}

	@RestController
	static class TextStreamController {

		@PostMapping("/events")
		@Idempotent
		public Flux<String> events() {
			return Flux.just("paid");
		}

	}

	@RestController
	static class ProducedEventStreamController {

		@PostMapping(path = "/events", produces = { "application/json", "text/event-stream" })
		@Idempotent
		public Flux<Map<String, String>> events() {
			return Flux.just(Map.of("status", "paid"));
		}

	}

	@RestController
	@RequestMapping(produces = "application/x-ndjson")
	static class ProducedJsonStreamController {

		@PostMapping("/events")
		@Idempotent
		public ResponseEntity<Flux<Map<String, String>>> events() {
			return ResponseEntity.ok(Flux.just(Map.of("status", "paid")));
		}

	}

	abstract static class EventsBase<T> {

		@PostMapping("/events")
		@Idempotent
		public Flux<T> events() {
			return Flux.empty();
		}

	}

	@RestController
	@RequestMapping("/collected")
	static class CollectedEventsController extends EventsBase<Map<String, String>> {

	}

	@RestController
	@RequestMapping("/streamed")
	static class StreamedEventsController extends EventsBase<String> {

	}

	@RestController
	static class CollectedStreamController {

		@PostMapping(path = "/events", produces = "application/json")
		@Idempotent
		public Flux<Map<String, String>> events() {
			return Flux.just(Map.of("status", "paid"));
		}

	}

	@RestController
	static class ExceptionHandlerController {

		@PostMapping("/failing")
		public String pay() {
			throw new IllegalStateException();
		}

		@ExceptionHandler
		@Idempotent
		public String failed(IllegalStateException ex) {
			return "failed";
		}

	}

}
