package io.github.idempotency.autoconfigure;

import java.util.ArrayList;
import java.util.List;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.interceptor.IdempotencyInterceptor;
import io.github.idempotency.test.BootLine;
import jakarta.validation.constraints.Min;
import org.junit.jupiter.api.Test;

import org.springframework.aop.Advisor;
import org.springframework.aop.framework.Advised;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
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
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Where the idempotency advice sits among the others, and what the starter refuses at
 * startup rather than leave an annotation without effect.
 */
class AdviceOrderTests {

	private final WebApplicationContextRunner runner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(IdempotencyAutoConfiguration.class, BootLine.webMvcAutoConfiguration(),
				AopAutoConfiguration.class));

	@Test
	void adviceShouldRunAfterSecurityAndValidationAndOutsideTransactions() {
		this.runner.withUserConfiguration(AdvisedApplication.class).run((context) -> {
			assertThat(context).hasNotFailed();
			List<String> chain = adviceChain(context.getBean(PaymentsController.class));
			assertThat(chain).containsSubsequence("method security", MethodValidationInterceptor.class.getName(),
					IdempotencyInterceptor.class.getName(), TransactionInterceptor.class.getName());
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

	}

	@RestController
	@Validated
	static class PaymentsController {

		@PostMapping("/payments")
		@Idempotent
		@PreAuthorize("hasRole('PAYER')")
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
