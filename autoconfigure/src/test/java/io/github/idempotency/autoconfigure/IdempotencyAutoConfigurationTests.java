package io.github.idempotency.autoconfigure;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyRecord;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.interceptor.IdempotencyAdvisor;
import io.github.idempotency.interceptor.IdempotencyLifecycle;
import io.github.idempotency.interceptor.IdempotencyOutcome;
import io.github.idempotency.interceptor.IdempotencyOutcomeListener;
import io.github.idempotency.interceptor.IdempotentOperationSource;
import io.github.idempotency.json.Jackson2JsonCanonicalizer;
import io.github.idempotency.json.Jackson2ResultCodec;
import io.github.idempotency.json.Jackson3JsonCanonicalizer;
import io.github.idempotency.json.Jackson3ResultCodec;
import io.github.idempotency.json.JsonCanonicalizer;
import io.github.idempotency.observation.MeterRegistryOutcomeListener;
import io.github.idempotency.json.ResultCodec;
import io.github.idempotency.store.memory.InMemoryIdempotencyStore;
import io.github.idempotency.store.redis.RedisIdempotencyStore;
import io.github.idempotency.test.BootLine;
import io.github.idempotency.test.RedisProcess;
import io.github.idempotency.test.RedisTestServer;
import io.github.idempotency.web.IdempotencyCoordinator;
import io.github.idempotency.web.IdempotencyExceptionResolver;
import io.github.idempotency.web.IdempotencyFilter;
import io.github.idempotency.web.IdempotencyProblem;
import io.github.idempotency.web.IdempotencyProblemException;
import io.github.idempotency.web.IdempotentHandlerInterceptor;
import io.github.idempotency.web.IdempotentRequestMatcher;
import io.github.idempotency.web.ProblemResponseWriter;
import io.github.idempotency.web.RequestFingerprinter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.mockito.Mockito;

import org.springframework.aop.framework.Advised;
import org.springframework.aop.framework.autoproxy.AutoProxyUtils;
import org.springframework.aop.framework.autoproxy.BeanNameAutoProxyCreator;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableWebApplicationContext;
import org.springframework.boot.test.context.runner.AbstractApplicationContextRunner;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.PriorityOrdered;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.request.MockMvcRequestBuilders;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.annotation.RequestScope;
import org.springframework.web.servlet.DispatcherServlet;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(OutputCaptureExtension.class)
class IdempotencyAutoConfigurationTests {

	private final WebApplicationContextRunner runner = new WebApplicationContextRunner().withConfiguration(
			AutoConfigurations.of(IdempotencyAutoConfiguration.class, IdempotencyWebMvcAutoConfiguration.class,
					BootLine.webMvcAutoConfiguration(), AopAutoConfiguration.class));

	private final WebApplicationContextRunner redisRunner = this.runner
		.withConfiguration(AutoConfigurations.of(BootLine.redisAutoConfiguration()))
		.withPropertyValues("spring.data.redis.url=" + RedisTestServer.url());

	@Test
	void startWhenRedisIsConfiguredShouldUseRedisStore() {
		this.redisRunner.withPropertyValues("idempotency.key-prefix=orders-app").run((context) -> {
			assertThat(context).hasSingleBean(RedisIdempotencyStore.class);
			assertThat(context.getBean(RedisIdempotencyStore.class).redisKey("abc")).isEqualTo("orders-app:{abc}");
			assertThat(context).hasSingleBean(IdempotencyCoordinator.class);
			assertThat(context).hasSingleBean(IdempotentHandlerInterceptor.class);
			assertThat(context).hasSingleBean(IdempotencyExceptionResolver.class);
			assertThat(context).hasSingleBean(IdempotencyAdvisor.class);
			assertThat(context).hasSingleBean(JsonCanonicalizer.class);
			assertThat(context).hasBean(IdempotencyWebMvcAutoConfiguration.FILTER_REGISTRATION_BEAN_NAME);
		});
	}

	// Spring Data REST adds a handler adapter of its own beside Spring MVC's, neither of
	// them primary: the starter's answers are written with Spring MVC's converters.
	@Test
	void problemShouldBeWrittenWhereAnotherHandlerAdapterIsDefined() {
		this.runner.withBean("repositoryExporterHandlerAdapter", RequestMappingHandlerAdapter.class).run((context) -> {
			MockHttpServletResponse response = new MockHttpServletResponse();
			context.getBean(ProblemResponseWriter.class)
				.write(new IdempotencyProblemException(IdempotencyProblem.KEY_MISSING, "No key.", null),
						new MockHttpServletRequest("POST", "/orders"), response);
			assertThat(response.getStatus()).isEqualTo(400);
			assertThat(response.getContentAsString()).contains("idempotency-key-missing");
		});
	}

	@Test
	void startupShouldSayWhereRecordsGoAndThatTheStoreAnswered(CapturedOutput output) {
		this.redisRunner.withUserConfiguration(IdempotentController.class, PlainController.class).run((context) -> {
			assertThat(context).hasNotFailed();
			awaitOutput(output, "Idempotency: 1 idempotent HTTP operation; records in Redis (standalone ");
			assertThat(output).contains("Idempotency: 1 idempotent HTTP operation; records in Redis (standalone ")
				.contains("key prefix 'idempotency'), which answered in");
		});
	}

	@Test
	void replayedHeadersWithoutContentTypeShouldWarn(CapturedOutput output) {
		this.runner.withPropertyValues("idempotency.replayed-headers=Location,ETag")
			.run((context) -> assertThat(output).contains("idempotency.replayed-headers leaves Content-Type out"));
		this.runner.withPropertyValues("idempotency.replayed-headers=content-type,Location")
			.run((context) -> assertThat(output)
				.containsOnlyOnce("idempotency.replayed-headers leaves Content-Type out"));
	}

	@Test
	void startWithUnreachableRedisShouldWarnAndStillStart(CapturedOutput output) throws IOException {
		this.runner.withConfiguration(AutoConfigurations.of(BootLine.redisAutoConfiguration()))
			.withPropertyValues("spring.data.redis.url=redis://127.0.0.1:" + RedisTestServer.freePort(),
					"spring.data.redis.timeout=500ms", "spring.data.redis.connect-timeout=500ms")
			.withUserConfiguration(IdempotentController.class)
			.run((context) -> {
				assertThat(context).hasNotFailed();
				awaitOutput(output, "Idempotency: 1 idempotent HTTP operation; records in Redis");
				assertThat(output).contains("WARN")
					.contains("Idempotency: 1 idempotent HTTP operation; records in Redis")
					.contains("which did not answer")
					.contains("get 503");
			});
	}

	// An application closed while its store had not answered yet takes the store's
	// connections with it, which says nothing of the store.
	@Test
	void applicationClosedBeforeItsStoreAnsweredShouldNotWarn(CapturedOutput output) throws InterruptedException {
		String report;
		try (RedisProcess redis = RedisProcess.launchOrSkip()) {
			report = "(standalone 127.0.0.1:" + redis.port() + ", key prefix 'idempotency'), which";
			redis.pauseClients(Duration.ofSeconds(3));
			this.runner.withConfiguration(AutoConfigurations.of(BootLine.redisAutoConfiguration()))
				.withPropertyValues("spring.data.redis.url=" + redis.url(), "idempotency.redis.eviction-check=off")
				.withUserConfiguration(IdempotentController.class)
				.run((context) -> assertThat(context).hasNotFailed());
			// The probe ends when the paused store answers, or fails when the closing
			// application's connections go; or, where closing left its command queued
			// (seen on Boot 4), it waits for the client's command timeout. Whichever it
			// is, nothing may be logged by the time the store answers again.
			awaitStartupReports(Duration.ofSeconds(6));
		}
		assertThat(output).doesNotContain(report);
	}

	private static void awaitStartupReports(Duration atMost) throws InterruptedException {
		long deadline = System.nanoTime() + atMost.toNanos();
		while (System.nanoTime() < deadline && Thread.getAllStackTraces()
			.keySet()
			.stream()
			.anyMatch((thread) -> thread.getName().equals("idempotency-startup-report"))) {
			Thread.sleep(20);
		}
	}

	// The store is asked on a thread of its own. A report of an earlier test's context
	// can land in this one's output too, so the whole line is awaited.
	private static void awaitOutput(CapturedOutput output, String text) throws InterruptedException {
		long deadline = System.nanoTime() + 10_000_000_000L;
		while (!output.toString().contains(text) && System.nanoTime() < deadline) {
			Thread.sleep(20);
		}
	}

	@Test
	void startWithoutRedisShouldUseInMemoryStore() {
		this.runner.withClassLoader(new FilteredClassLoader(RedisConnectionFactory.class)).run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(context).hasSingleBean(InMemoryIdempotencyStore.class);
		});
	}

	@Test
	void startWhenRedisIsOnClasspathButNotConfiguredShouldUseInMemoryStore() {
		this.runner.run((context) -> assertThat(context).hasSingleBean(InMemoryIdempotencyStore.class));
	}

	@Test
	void startWithOnlyJacksonTwoShouldCanonicalizeWithIt() {
		this.runner.withClassLoader(new FilteredClassLoader("tools.jackson.core"))
			.run((context) -> assertThat(context.getBean(JsonCanonicalizer.class))
				.isInstanceOf(Jackson2JsonCanonicalizer.class));
	}

	@Test
	void startWithOnlyJacksonThreeShouldCanonicalizeWithIt() {
		this.runner.withClassLoader(new FilteredClassLoader("com.fasterxml.jackson.core"))
			.run((context) -> assertThat(context.getBean(JsonCanonicalizer.class))
				.isInstanceOf(Jackson3JsonCanonicalizer.class));
	}

	@Test
	void startWithBothJacksonsShouldPreferJacksonThree() {
		this.runner.run((context) -> assertThat(context.getBean(JsonCanonicalizer.class))
			.isInstanceOf(Jackson3JsonCanonicalizer.class));
	}

	// A Spring Boot 4 application that configures a Jackson 2 mapper too for a library,
	// or
	// a Spring Boot 3.5 one trying Jackson 3: values are kept with the mapper its line
	// configures.
	@Test
	void startWithMappersOfBothJacksonsShouldKeepValuesWithTheLinesOwn() {
		this.runner
			.withBean(com.fasterxml.jackson.databind.ObjectMapper.class,
					com.fasterxml.jackson.databind.ObjectMapper::new)
			.withBean(tools.jackson.databind.json.JsonMapper.class,
					() -> tools.jackson.databind.json.JsonMapper.builder().build())
			.run((context) -> assertThat(context.getBean(ResultCodec.class))
				.isInstanceOf(BootLine.BOOT_4 ? Jackson3ResultCodec.class : Jackson2ResultCodec.class));
		this.runner
			.withBean(com.fasterxml.jackson.databind.ObjectMapper.class,
					com.fasterxml.jackson.databind.ObjectMapper::new)
			.run((context) -> assertThat(context.getBean(ResultCodec.class)).isInstanceOf(Jackson2ResultCodec.class));
	}

	@Test
	void startWithoutJacksonShouldCompareBodiesByteForByte() {
		this.runner.withClassLoader(new FilteredClassLoader("com.fasterxml.jackson.core", "tools.jackson.core"))
			.run((context) -> {
				assertThat(context).doesNotHaveBean(JsonCanonicalizer.class);
				assertThat(context).hasSingleBean(RequestFingerprinter.class);
			});
	}

	@Test
	void startWithoutWebApplicationShouldAddStoreLifecycleAndAdviceButNoWebLayer() {
		new ApplicationContextRunner()
			.withConfiguration(
					AutoConfigurations.of(IdempotencyAutoConfiguration.class, IdempotencyWebMvcAutoConfiguration.class,
							BootLine.redisAutoConfiguration(), AopAutoConfiguration.class))
			.withPropertyValues("spring.data.redis.url=" + RedisTestServer.url())
			.run((context) -> {
				assertThat(context).hasSingleBean(RedisIdempotencyStore.class);
				assertThat(context).hasSingleBean(IdempotencyLifecycle.class);
				assertThat(context).hasSingleBean(IdempotencyAdvisor.class);
				assertThat(context).doesNotHaveBean(IdempotencyCoordinator.class);
				assertThat(context).doesNotHaveBean(IdempotencyWebMvcAutoConfiguration.FILTER_REGISTRATION_BEAN_NAME);
			});
	}

	@Test
	void filterRegisteredWithoutItsAsyncAndForwardDispatchesShouldFailStartup() {
		this.runner.withUserConfiguration(RequestOnlyRegistrationConfiguration.class)
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("bean '" + IdempotencyWebMvcAutoConfiguration.FILTER_REGISTRATION_BEAN_NAME + "'")
				.hasMessageContaining("[REQUEST, ERROR] dispatches only"));
	}

	@Test
	void filterRegisteredWithoutItsErrorDispatchesShouldStart() {
		this.runner.withUserConfiguration(NoErrorRegistrationConfiguration.class)
			.run((context) -> assertThat(context).hasNotFailed());
	}

	@Test
	void idempotentMethodWithoutJsonMapperShouldFailStartup() {
		new ApplicationContextRunner()
			.withClassLoader(new FilteredClassLoader("com.fasterxml.jackson", "tools.jackson"))
			.withConfiguration(AutoConfigurations.of(IdempotencyAutoConfiguration.class, AopAutoConfiguration.class))
			.withBean(Bookings.class)
			.run((context) -> assertThat(context).getFailure().hasMessageContaining("no JSON mapper"));
	}

	// A post-processor's dependency is created before the auto-proxy creator, and left
	// unproxied: every call of its @Idempotent methods would run unprotected.
	@Test
	void idempotentMethodOfABeanCreatedBeforeTheProxyCreatorShouldFailStartupNamingIt() {
		ApplicationContextRunner methods = new ApplicationContextRunner().withConfiguration(AutoConfigurations
			.of(IdempotencyAutoConfiguration.class, AopAutoConfiguration.class, BootLine.jacksonAutoConfiguration()));
		methods.withUserConfiguration(EarlyBookingsConfiguration.class)
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("IdempotencyAutoConfigurationTests$Bookings.book, whose bean is not proxied"));
		methods.withBean(Bookings.class).run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(AopUtils.isAopProxy(context.getBean(Bookings.class))).isTrue();
		});
		// A test's mock in its stead (@MockitoBean registers it as it is).
		methods
			.withInitializer(
					(context) -> context.getBeanFactory().registerSingleton("bookings", Mockito.mock(Bookings.class)))
			.run((context) -> assertThat(context).hasNotFailed());
		// A test double of its own in its stead (@TestBean registers it as it is) runs
		// the annotated methods unprotected.
		methods.withInitializer((context) -> context.getBeanFactory().registerSingleton("bookings", new Bookings()))
			.run((context) -> assertThat(context).getFailure().hasMessageContaining("whose bean is not proxied"));
		// A second auto-proxy creator wraps the first one's proxy.
		secondProxyCreator(methods.withBean(Bookings.class), "*Bookings", true).run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(((Advised) context.getBean(Bookings.class)).getTargetSource().getTarget())
				.isInstanceOf(Advised.class);
		});
	}

	@Test
	void idempotentWebFluxHandlerShouldFailStartupNamingIt() {
		ReactiveWebApplicationContextRunner reactive = new ReactiveWebApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(IdempotencyAutoConfiguration.class, AopAutoConfiguration.class,
					BootLine.jacksonAutoConfiguration()));
		reactive.withUserConfiguration(IdempotentController.class)
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("IdempotentController.create, handled by WebFlux"));
		// A lazy controller is not proxied at startup: found by its bean definition.
		reactive
			.withBean(IdempotentController.class, IdempotentController::new,
					(definition) -> definition.setLazyInit(true))
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("IdempotentController.create, handled by WebFlux"));
		// Methods outside web handlers work there as anywhere.
		reactive.withUserConfiguration(PlainController.class)
			.withBean(Bookings.class)
			.run((context) -> assertThat(context).hasNotFailed());
	}

	@Test
	void startupOfApplicationWithoutWebShouldCountItsIdempotentMethods(CapturedOutput output) {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(IdempotencyAutoConfiguration.class, AopAutoConfiguration.class,
					BootLine.jacksonAutoConfiguration()))
			.withBean(Bookings.class)
			.run((context) -> {
				assertThat(context).hasNotFailed();
				awaitOutput(output, "Idempotency: 1 idempotent method; records in memory");
				assertThat(output).contains("Idempotency: 1 idempotent method; records in memory");
			});
	}

	// Spring Boot Actuator's registry gets handlers for its timers and traces.
	@Test
	void storeCallsShouldBeObservedWhereTheRegistryHasHandlers() {
		List<String> observed = new CopyOnWriteArrayList<>();
		ObservationRegistry registry = ObservationRegistry.create();
		registry.observationConfig().observationHandler(new ObservationHandler<>() {

			@Override
			public boolean supportsContext(Observation.Context context) {
				return true;
			}

			@Override
			public void onStop(Observation.Context context) {
				observed.add(context.getName() + " " + context.getContextualName());
			}

		});
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(IdempotencyAutoConfiguration.class, AopAutoConfiguration.class,
					BootLine.jacksonAutoConfiguration()))
			.withBean(Bookings.class)
			.withBean(ObservationRegistry.class, () -> registry)
			.run((context) -> {
				assertThat(context.getBean(Bookings.class).book("b-1")).isEqualTo("booked b-1");
				assertThat(context.getBean(Bookings.class).book("b-1")).isEqualTo("booked b-1");
				assertThat(observed).containsExactly("idempotency.store idempotency claim",
						"idempotency.store idempotency complete", "idempotency.store idempotency claim");
			});
	}

	// Reactive, or a servlet application on a framework other than Spring MVC (Jersey,
	// say): no HTTP operations to count, the methods and the store all the same.
	@Test
	void startupOfApplicationWithoutSpringMvcShouldCountItsIdempotentMethods(CapturedOutput output) {
		new ReactiveWebApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(IdempotencyAutoConfiguration.class, AopAutoConfiguration.class,
					BootLine.jacksonAutoConfiguration()))
			.withBean(Bookings.class)
			.run((context) -> {
				assertThat(context).hasSingleBean(IdempotencyStartupReport.class);
				awaitOutput(output, "Idempotency: 1 idempotent method; records in memory");
			});
		new WebApplicationContextRunner()
			.withConfiguration(
					AutoConfigurations.of(IdempotencyAutoConfiguration.class, IdempotencyWebMvcAutoConfiguration.class,
							AopAutoConfiguration.class, BootLine.jacksonAutoConfiguration()))
			.withClassLoader(new FilteredClassLoader(DispatcherServlet.class))
			.withBean(Bookings.class)
			.run((context) -> assertThat(context).hasSingleBean(IdempotencyStartupReport.class)
				.doesNotHaveBean(IdempotencyCoordinator.class));
		this.runner.run((context) -> assertThat(context).hasSingleBean(IdempotencyStartupReport.class)
			.hasSingleBean(IdempotencyCoordinator.class));
	}

	@Test
	void startWhenDisabledShouldAddNothing() {
		this.redisRunner.withPropertyValues("idempotency.enabled=false").run((context) -> {
			assertThat(context).doesNotHaveBean(IdempotencyStore.class);
			assertThat(context).doesNotHaveBean(IdempotencyAdvisor.class);
			assertThat(context).doesNotHaveBean(IdempotencyCoordinator.class);
			assertThat(context).doesNotHaveBean(IdempotencyWebMvcAutoConfiguration.FILTER_REGISTRATION_BEAN_NAME);
		});
	}

	// Matching the text "true" alone would have turned everything off, unseen, for a 1, a
	// typo or a blank.
	@Test
	void enabledSwitchShouldBeReadAsItsBoundValue() {
		this.redisRunner.withPropertyValues("idempotency.enabled=off")
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(IdempotencyAdvisor.class));
		this.redisRunner.withPropertyValues("idempotency.enabled=1")
			.run((context) -> assertThat(context).hasSingleBean(IdempotencyAdvisor.class));
		this.redisRunner.withPropertyValues("idempotency.enabled=ture")
			.run((context) -> assertThat(context).getFailure()
				.hasStackTraceContaining(
						"Property idempotency.enabled with value 'ture' is invalid: it must be true or false"));
		// As ${IDEMPOTENCY_ENABLED:} gives where the variable is not set.
		this.redisRunner.withPropertyValues("idempotency.enabled=")
			.run((context) -> assertThat(context).getFailure()
				.hasStackTraceContaining(
						"Property idempotency.enabled with value '' is invalid: it must be true or false"));
	}

	@Test
	void startWhenApplicationDefinesStoreShouldUseIt() {
		this.redisRunner.withUserConfiguration(CustomStoreConfiguration.class).run((context) -> {
			assertThat(context).hasSingleBean(IdempotencyStore.class);
			assertThat(context.getBean(IdempotencyStore.class)).isSameAs(CustomStoreConfiguration.STORE);
		});
	}

	@Test
	void startWhenApplicationDefinesBeansShouldBackOff() {
		this.runner.withUserConfiguration(CustomBeansConfiguration.class).run((context) -> {
			assertThat(context.getBean(IdempotentOperationSource.class))
				.isSameAs(context.getBean("customOperationSource"));
			assertThat(context.getBean(RequestFingerprinter.class)).isSameAs(context.getBean("customFingerprinter"));
		});
	}

	// An application's listener (an audit, say) is told beside the metrics, and two of
	// them are no ambiguity, nor one that throws; a metrics listener of its own replaces
	// the starter's, however it is declared.
	@Test
	void outcomesShouldReachEveryListenerAndTheMetrics() {
		List<String> audit = new CopyOnWriteArrayList<>();
		List<String> alerts = new CopyOnWriteArrayList<>();
		SimpleMeterRegistry registry = new SimpleMeterRegistry();
		this.runner.withBean(SimpleMeterRegistry.class, () -> registry)
			.withBean("audit", IdempotencyOutcomeListener.class,
					() -> (operation, outcome) -> audit.add(operation + " " + outcome.tagValue()))
			.withBean("alerts", IdempotencyOutcomeListener.class, () -> (operation, outcome) -> {
				alerts.add(operation + " " + outcome.tagValue());
				throw new IllegalStateException("alerting down");
			})
			.run((context) -> {
				context.getBean(IdempotencyLifecycle.class).record("POST /orders", IdempotencyOutcome.MISSING);
				assertThat(audit).containsExactly("POST /orders missing");
				assertThat(alerts).containsExactly("POST /orders missing");
				assertThat(registry.get(MeterRegistryOutcomeListener.METER_NAME)
					.tag("outcome", "missing")
					.counter()
					.count()).isOne();
			});
		SimpleMeterRegistry counted = new SimpleMeterRegistry();
		this.runner.withBean(SimpleMeterRegistry.class, () -> counted)
			.withBean("customMetrics", IdempotencyOutcomeListener.class,
					() -> new MeterRegistryOutcomeListener(counted))
			.run((context) -> {
				context.getBean(IdempotencyLifecycle.class).record("POST /orders", IdempotencyOutcome.MISSING);
				assertThat(counted.get(MeterRegistryOutcomeListener.METER_NAME).counter().count()).isOne();
			});
		SimpleMeterRegistry application = new SimpleMeterRegistry();
		SimpleMeterRegistry ownMetrics = new SimpleMeterRegistry();
		this.runner.withBean(SimpleMeterRegistry.class, () -> application)
			.withBean(MeterRegistryOutcomeListener.class, () -> new MeterRegistryOutcomeListener(ownMetrics))
			.run((context) -> {
				context.getBean(IdempotencyLifecycle.class).record("POST /orders", IdempotencyOutcome.MISSING);
				assertThat(ownMetrics.get(MeterRegistryOutcomeListener.METER_NAME).counter().count()).isOne();
				assertThat(application.find(MeterRegistryOutcomeListener.METER_NAME).counter()).isNull();
			});
	}

	@Test
	void startShouldProxyIdempotentControllers() {
		this.runner.withUserConfiguration(ControllerConfiguration.class).run((context) -> {
			assertThat(AopUtils.isAopProxy(context.getBean(IdempotentController.class))).isTrue();
			assertThat(AopUtils.isAopProxy(context.getBean(PlainController.class))).isFalse();
		});
	}

	// Spring MVC finds a controller by its bean's type, which an interface-based proxy
	// shows only where an interface carries @Controller. A service is left as the
	// application asks.
	@Test
	void startWithInterfaceBasedProxiesShouldProxyIdempotentControllersByTheirClass() {
		this.runner.withConfiguration(AutoConfigurations.of(BootLine.jacksonAutoConfiguration()))
			.withPropertyValues("spring.aop.proxy-target-class=false")
			.withUserConfiguration(InterfaceConfiguration.class)
			.run((context) -> {
				assertThat(AopUtils.isCglibProxy(context.getBean("apiController"))).isTrue();
				assertThat(AopUtils.isJdkDynamicProxy(context.getBean("annotatedApiController"))).isTrue();
				assertThat(AopUtils.isJdkDynamicProxy(context.getBean("charges"))).isTrue();
			});
	}

	// Its interface carries @Controller: mapped through its interface-based proxy, whose
	// type does not show the idempotency its class declares.
	@Test
	void idempotentControllerWhoseProxyHidesItShouldFailStartupNamingIt() {
		this.runner.withPropertyValues("spring.aop.proxy-target-class=false")
			.withUserConfiguration(HiddenIdempotencyConfiguration.class)
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.hasMessageContaining(
						"HiddenApiController.create is @Idempotent but its bean is an interface-based proxy"));
		// Wrapped again by a second auto-proxy creator, by interface too.
		secondProxyCreator(this.runner.withPropertyValues("spring.aop.proxy-target-class=false")
			.withUserConfiguration(HiddenIdempotencyConfiguration.class), "hiddenApiController", false)
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.hasMessageContaining(
						"HiddenApiController.create is @Idempotent but its bean is an interface-based proxy"));
	}

	// A lazy bean does not exist yet when Spring MVC maps handlers: they are taken from
	// its
	// class, which an interface-based proxy is not. Before, every request got a 500.
	@Test
	void lazyControllerWhoseInterfaceIsTheControllerShouldBeProxiedByItsClass() {
		this.runner.withConfiguration(AutoConfigurations.of(BootLine.jacksonAutoConfiguration()))
			.withPropertyValues("spring.aop.proxy-target-class=false")
			.withBean("hiddenApiController", HiddenApiController.class, HiddenApiController::new,
					(definition) -> definition.setLazyInit(true))
			.run((context) -> {
				int runsBefore = HiddenApiController.runs.get();
				assertRunsOnceAndReplays(context, "/hidden-api", "hidden");
				assertThat(HiddenApiController.runs.get() - runsBefore).isOne();
				assertThat(AopUtils.isCglibProxy(context.getBean("hiddenApiController"))).isTrue();
			});
	}

	// A bean of the application's that needs Spring MVC's handler mapping has it made
	// before the controller, whose handlers are then mapped from its class.
	@Test
	void controllerCreatedAfterTheHandlerMappingShouldBeProxiedByItsClass() {
		this.runner.withConfiguration(AutoConfigurations.of(BootLine.jacksonAutoConfiguration()))
			.withPropertyValues("spring.aop.proxy-target-class=false")
			.withBean("handlerLister", HandlerLister.class)
			.withBean("annotatedApiController", AnnotatedApiController.class, AnnotatedApiController::new)
			.run((context) -> {
				assertThat(context.getBean(HandlerLister.class).mappedBeforeControllers).isTrue();
				assertRunsOnceAndReplays(context, "/annotated-api", "annotated api");
				assertThat(AopUtils.isCglibProxy(context.getBean("annotatedApiController"))).isTrue();
			});
	}

	// Injecting the handler mapping into a field has it made, and map the controller,
	// after the controller's definition was looked at.
	@Test
	void controllerThatHasTheHandlerMappingInjectedShouldBeProxiedByItsClass() {
		this.runner.withConfiguration(AutoConfigurations.of(BootLine.jacksonAutoConfiguration()))
			.withPropertyValues("spring.aop.proxy-target-class=false")
			.withBean("annotatedApiController", MappingAwareApiController.class, MappingAwareApiController::new)
			.run((context) -> {
				assertRunsOnceAndReplays(context, "/annotated-api", "annotated api");
				assertThat(AopUtils.isCglibProxy(context.getBean("annotatedApiController"))).isTrue();
			});
	}

	// What Spring Framework 7's @Proxyable on a @Bean method sets: the application chose
	// the proxy.
	@Test
	void controllerWhoseDefinitionAsksForInterfaceProxiesShouldGetOne() {
		this.runner.withPropertyValues("spring.aop.proxy-target-class=false")
			.withBean("hiddenApiController", HiddenApiController.class, HiddenApiController::new, (definition) -> {
				definition.setLazyInit(true);
				definition.setAttribute(AutoProxyUtils.class.getName() + ".exposedInterfaces",
						new Class<?>[] { HiddenApi.class });
			})
			.run((context) -> {
				assertThat(AopUtils.isJdkDynamicProxy(context.getBean("hiddenApiController"))).isTrue();
				assertThat(context.getBeanFactory()
					.getBeanDefinition("hiddenApiController")
					.hasAttribute(AutoProxyUtils.PRESERVE_TARGET_CLASS_ATTRIBUTE)).isFalse();
			});
	}

	// A controller whose bean is a scoped proxy (request scope, or Spring Cloud's refresh
	// scope): the idempotency advice is on the target the scope holds.
	@Test
	void scopedControllerShouldRunOnceAndReplay() {
		this.runner.withConfiguration(AutoConfigurations.of(BootLine.jacksonAutoConfiguration()))
			.withUserConfiguration(RequestScopedController.class)
			.run((context) -> {
				int runsBefore = RequestScopedController.runs.get();
				assertRunsOnceAndReplays(context, "/request-scoped", "scoped");
				assertThat(RequestScopedController.runs.get() - runsBefore).isOne();
			});
	}

	// A second auto-proxy creator wraps the proxy that carries the idempotency advice.
	@Test
	void controllerProxiedTwiceShouldRunOnceAndReplay() {
		secondProxyCreator(this.runner.withConfiguration(AutoConfigurations.of(BootLine.jacksonAutoConfiguration()))
			.withUserConfiguration(IdempotentController.class), "*IdempotentController", true).run((context) -> {
				assertRunsOnceAndReplays(context, "/a", "a");
				assertThat(((Advised) context.getBean(IdempotentController.class)).getTargetSource().getTarget())
					.isInstanceOf(Advised.class);
			});
	}

	// A second auto-proxy creator beside Spring Boot's, with advice of its own, which
	// wraps the first one's proxy.
	private static <R extends AbstractApplicationContextRunner<R, ?, ?>> R secondProxyCreator(R runner,
			String beanNames, boolean proxyTargetClass) {
		return runner.withBean("timing", MethodInterceptor.class, () -> MethodInvocation::proceed)
			.withBean(BeanNameAutoProxyCreator.class, () -> {
				BeanNameAutoProxyCreator creator = new BeanNameAutoProxyCreator();
				creator.setBeanNames(beanNames);
				creator.setProxyTargetClass(proxyTargetClass);
				creator.setInterceptorNames("timing");
				return creator;
			});
	}

	private static void assertRunsOnceAndReplays(AssertableWebApplicationContext context, String path, String answer)
			throws Exception {
		assertThat(context).hasNotFailed();
		Filter filter = context
			.getBean(IdempotencyWebMvcAutoConfiguration.FILTER_REGISTRATION_BEAN_NAME, FilterRegistrationBean.class)
			.getFilter();
		MockMvc mvc = MockMvcBuilders.webAppContextSetup(context).addFilters(filter).build();
		String key = UUID.randomUUID().toString();
		for (int attempt = 0; attempt < 2; attempt++) {
			MockHttpServletResponse response = mvc
				.perform(MockMvcRequestBuilders.post(path).header("Idempotency-Key", key))
				.andReturn()
				.getResponse();
			assertThat(response.getStatus()).as(response.getContentAsString()).isEqualTo(200);
			assertThat(response.getContentAsString()).isEqualTo(answer);
			assertThat(response.getHeader("Idempotent-Replayed")).isEqualTo((attempt == 0) ? null : "true");
		}
	}

	// A child context's post-processors are its own: those of its parent never see its
	// beans, which the parent's advice proxies all the same.
	@Test
	void childContextShouldProxyItsIdempotentControllersByTheirClass() {
		WebApplicationContextRunner runner = this.runner
			.withConfiguration(AutoConfigurations.of(BootLine.jacksonAutoConfiguration()));
		runner.run((parent) -> runner.withParent(parent)
			.withPropertyValues("spring.aop.proxy-target-class=false")
			.withUserConfiguration(InterfaceConfiguration.class)
			.run((child) -> assertThat(AopUtils.isCglibProxy(child.getBean("apiController"))).isTrue()));
	}

	@Test
	void startWithDefaultsShouldBindDocumentedDefaults() {
		this.runner.run((context) -> {
			IdempotencyProperties properties = context.getBean(IdempotencyProperties.class);
			assertThat(properties.getHeaderName()).isEqualTo("Idempotency-Key");
			assertThat(properties.getTtl()).isEqualTo(Duration.ofHours(24));
			assertThat(properties.getLockTimeout()).isEqualTo(Duration.ofSeconds(30));
			assertThat(properties.getMaxKeyLength()).isEqualTo(255);
			assertThat(properties.getKeyPrefix()).isEqualTo("idempotency");
			assertThat(properties.getMethods()).containsExactly("POST", "PATCH");
			assertThat(properties.getReplayedHeaders()).contains("Content-Type", "Location");
		});
	}

	@Test
	void startWithOverridesShouldBindThem() {
		this.runner
			.withPropertyValues("idempotency.ttl=2h", "idempotency.lock-timeout=2m", "idempotency.max-key-length=64",
					"idempotency.on-store-failure=proceed", "idempotency.replayed-headers=Content-Type,ETag",
					"idempotency.methods=post,put")
			.run((context) -> {
				IdempotencyProperties properties = context.getBean(IdempotencyProperties.class);
				assertThat(properties.getTtl()).isEqualTo(Duration.ofHours(2));
				assertThat(properties.getLockTimeout()).isEqualTo(Duration.ofMinutes(2));
				assertThat(properties.getReplayedHeaders()).containsExactly("Content-Type", "ETag");
				assertThat(properties.methodNames()).containsExactlyInAnyOrder("POST", "PUT");
				assertThat(properties.toPolicy().onStoreFailure().name()).isEqualTo("PROCEED");
			});
	}

	// PSOT is a token, so a request method, which no client sends: POST would run
	// unprotected under a class-level annotation.
	@Test
	void methodsListingANonStandardMethodShouldWarn(CapturedOutput output) {
		this.runner.withPropertyValues("idempotency.methods=PATCH,psot")
			.run((context) -> assertThat(output).contains("idempotency.methods lists PSOT, which is no standard"));
		this.runner.withPropertyValues("idempotency.methods=post,PUT,DELETE")
			.run((context) -> assertThat(output).containsOnlyOnce("idempotency.methods lists"));
	}

	@Test
	void advisorOrderThatIsNoNumberShouldFailNamingProperty() {
		this.runner.withPropertyValues("idempotency.advisor-order=late")
			.run((context) -> assertThat(context).getFailure()
				.hasStackTraceContaining(
						"Failed to bind properties under 'idempotency.advisor-order' to java.lang.Integer"));
	}

	@Test
	void startWithMethodsInOneEntryShouldFailNamingProperty() {
		assertStartupFailure("idempotency.methods=POST PATCH", "methods", "is not a request method");
	}

	@Test
	void startWithZeroTtlShouldFailNamingProperty() {
		assertStartupFailure("idempotency.ttl=0s", "ttl", "must be positive");
	}

	@Test
	void startWithZeroMaxResultSizeShouldFailNamingProperty() {
		assertStartupFailure("idempotency.max-result-size=0B", "maxResultSize",
				"idempotency.max-result-size must be positive");
	}

	@Test
	void startWithLockTimeoutOutOfRangeShouldFailNamingProperty() {
		assertStartupFailure("idempotency.lock-timeout=100ms", "lockTimeout",
				"idempotency.lock-timeout must be between PT0.2S and PT8760H");
		assertStartupFailure("idempotency.lock-timeout=400d", "lockTimeout",
				"idempotency.lock-timeout must be between PT0.2S and PT8760H");
	}

	@Test
	void startWithRetentionPastWhatStoresKeepShouldFailNamingProperty() {
		assertStartupFailure("idempotency.ttl=40000d", "ttl", "idempotency.ttl must be at most PT876000H");
	}

	@Test
	void startWithEndlessWaitsShouldFailNamingProperty() {
		assertStartupFailure("idempotency.wait-timeout=400d", "waitTimeout",
				"idempotency.wait-timeout must be at most PT8760H");
		assertStartupFailure("idempotency.lock-renewal.max-duration=400d", "lockRenewal.maxDuration",
				"idempotency.lock-renewal.max-duration must be at most PT8760H");
	}

	@Test
	void startWithNegativeLockTimeoutShouldFailNamingProperty() {
		assertStartupFailure("idempotency.lock-timeout=-1s", "lockTimeout", "must be positive");
	}

	@Test
	void startWithRenewalIntervalAboveLockTimeoutShouldFailNamingProperty() {
		this.runner.withPropertyValues("idempotency.lock-timeout=10s", "idempotency.lock-renewal.interval=10s")
			.run((context) -> assertThat(context.getStartupFailure()).rootCause()
				.hasMessageContaining("on field 'lockRenewal.interval'")
				.hasMessageContaining("shorter than idempotency.lock-timeout"));
	}

	@Test
	void startWithZeroMaxKeyLengthShouldFailNamingProperty() {
		assertStartupFailure("idempotency.max-key-length=0", "maxKeyLength", "must be at least 1");
	}

	@Test
	void startWithUnresolvedPlaceholderInPrefixShouldSaySo() {
		assertStartupFailure("idempotency.key-prefix=orders-${region}", "keyPrefix",
				"idempotency.key-prefix holds the unresolved placeholder");
	}

	@Test
	void startupFailureShouldNamePropertyAsWrittenInConfiguration() {
		assertStartupFailure("idempotency.lock-renewal.max-duration=0s", "lockRenewal.maxDuration",
				"idempotency.lock-renewal.max-duration must be positive");
	}

	@Test
	void startWithHashTagInPrefixShouldFailNamingProperty() {
		assertStartupFailure("idempotency.key-prefix=app:{x}", "keyPrefix", "free of '{' and '}'");
	}

	@Test
	void startWithCredentialHeaderReplayedShouldFailNamingProperty() {
		assertStartupFailure("idempotency.replayed-headers=Location,Set-Cookie", "replayedHeaders",
				"'Set-Cookie' is never replayed");
	}

	// Worked out for each request: a replay would answer with another request's.
	@Test
	void startWithPerRequestHeaderReplayedShouldFailNamingProperty() {
		assertStartupFailure("idempotency.replayed-headers=Location,Access-Control-Allow-Origin", "replayedHeaders",
				"'Access-Control-Allow-Origin' is never replayed: it is worked out for each request");
		assertStartupFailure("idempotency.replayed-headers=X-RateLimit-Remaining", "replayedHeaders",
				"'X-RateLimit-Remaining' is never replayed");
		assertStartupFailure("idempotency.replayed-headers=Upgrade", "replayedHeaders", "'Upgrade' is never replayed");
	}

	@Test
	void startWithInvalidHeaderNameShouldFailNamingProperty() {
		assertStartupFailure("idempotency.header-name=Idempotency Key", "headerName",
				"must be a valid HTTP header name");
	}

	@Test
	void startWithUnknownStoreFailureModeShouldFail() {
		this.runner.withPropertyValues("idempotency.on-store-failure=maybe")
			.run((context) -> assertThat(context).hasFailed());
	}

	@Test
	void startWithInvalidAnnotationShouldFailNamingMethod() {
		this.runner.withUserConfiguration(InvalidAnnotationConfiguration.class).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).hasStackTraceContaining("InvalidController.create")
				.hasStackTraceContaining("ttl 'soon'");
		});
	}

	@Test
	void durationPlaceholderShouldBeResolvedFromTheApplicationsProperties() {
		this.runner.withUserConfiguration(PlaceholderController.class)
			.withPropertyValues("payments.ttl=7d")
			.run((context) -> assertThat(context.getBean(IdempotentOperationSource.class)
				.getOperation(PlaceholderController.class.getDeclaredMethod("create"), PlaceholderController.class)
				.ttl()).isEqualTo(Duration.ofDays(7)));
	}

	private void assertStartupFailure(String property, String field, String reason) {
		this.runner.withPropertyValues(property).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause()
				.isInstanceOf(BindValidationException.class)
				.hasMessageContaining("on field '" + field + "'")
				.hasMessageContaining(reason);
		});
	}

	static FilterRegistrationBean<IdempotencyFilter> filterRegistration(IdempotentRequestMatcher matcher,
			DispatcherType type, DispatcherType... types) {
		FilterRegistrationBean<IdempotencyFilter> registration = new FilterRegistrationBean<>(
				new IdempotencyFilter(matcher, 1024));
		registration.setDispatcherTypes(type, types);
		return registration;
	}

	@Configuration(proxyBeanMethods = false)
	static class RequestOnlyRegistrationConfiguration {

		@Bean(IdempotencyWebMvcAutoConfiguration.FILTER_REGISTRATION_BEAN_NAME)
		FilterRegistrationBean<IdempotencyFilter> idempotencyFilterRegistration(IdempotentRequestMatcher matcher) {
			return filterRegistration(matcher, DispatcherType.REQUEST, DispatcherType.ERROR);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class NoErrorRegistrationConfiguration {

		@Bean(IdempotencyWebMvcAutoConfiguration.FILTER_REGISTRATION_BEAN_NAME)
		FilterRegistrationBean<IdempotencyFilter> idempotencyFilterRegistration(IdempotentRequestMatcher matcher) {
			return filterRegistration(matcher, DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.FORWARD,
					DispatcherType.INCLUDE);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class CustomStoreConfiguration {

		static final IdempotencyStore STORE = new IdempotencyStore() {

			@Override
			public ClaimResult claim(String key, String fingerprint, Duration lease) {
				return new ClaimResult.Completed(new StoredResponse(200, Map.of(), new byte[0]));
			}

			@Override
			public boolean complete(String key, String token, StoredResponse response, Duration retention) {
				return false;
			}

			@Override
			public boolean renew(String key, String token, Duration lease) {
				return false;
			}

			@Override
			public boolean release(String key, String token) {
				return false;
			}

			@Override
			public Optional<IdempotencyRecord> find(String key) {
				return Optional.empty();
			}

			@Override
			public boolean delete(String key) {
				return false;
			}

		};

		@Bean
		IdempotencyStore customStore() {
			return STORE;
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class CustomBeansConfiguration {

		@Bean
		static IdempotentOperationSource customOperationSource() {
			return (method, targetClass) -> null;
		}

		@Bean
		RequestFingerprinter customFingerprinter() {
			return new RequestFingerprinter(null);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class ControllerConfiguration {

		@Bean
		IdempotentController idempotentController() {
			return new IdempotentController();
		}

		@Bean
		PlainController plainController() {
			return new PlainController();
		}

	}

	@RestController
	static class IdempotentController {

		@PostMapping("/a")
		@Idempotent
		String create() {
			return "a";
		}

	}

	@RestController
	@RequestScope
	static class RequestScopedController {

		static final AtomicInteger runs = new AtomicInteger();

		@PostMapping("/request-scoped")
		@Idempotent
		String create() {
			runs.incrementAndGet();
			return "scoped";
		}

	}

	@RestController
	static class PlainController {

		@PostMapping("/b")
		String create() {
			return "b";
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class InterfaceConfiguration {

		@Bean
		ApiController apiController() {
			return new ApiController();
		}

		@Bean
		AnnotatedApiController annotatedApiController() {
			return new AnnotatedApiController();
		}

		@Bean
		ChargeService charges() {
			return new ChargeService();
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class HiddenIdempotencyConfiguration {

		@Bean
		HiddenApiController hiddenApiController() {
			return new HiddenApiController();
		}

	}

	@RestController
	public interface HiddenApi {

		@PostMapping("/hidden-api")
		String create();

	}

	static class HiddenApiController implements HiddenApi {

		static final AtomicInteger runs = new AtomicInteger();

		@Override
		@Idempotent
		public String create() {
			runs.incrementAndGet();
			return "hidden";
		}

	}

	public interface Api {

		@PostMapping("/api")
		String create();

	}

	@RestController
	static class ApiController implements Api {

		@Override
		@Idempotent
		public String create() {
			return "api";
		}

	}

	static class HandlerLister {

		final boolean mappedBeforeControllers;

		HandlerLister(RequestMappingHandlerMapping mapping, ConfigurableListableBeanFactory beanFactory) {
			this.mappedBeforeControllers = !mapping.getHandlerMethods().isEmpty()
					&& !beanFactory.containsSingleton("annotatedApiController");
		}

	}

	static class MappingAwareApiController implements AnnotatedApi {

		@Autowired
		RequestMappingHandlerMapping mapping;

		@Override
		public String create() {
			return "annotated api";
		}

	}

	@RestController
	public interface AnnotatedApi {

		@PostMapping("/annotated-api")
		@Idempotent
		String create();

	}

	static class AnnotatedApiController implements AnnotatedApi {

		@Override
		public String create() {
			return "annotated api";
		}

	}

	public interface Charges {

		String charge(String reference);

	}

	static class ChargeService implements Charges {

		@Override
		@Idempotent(key = "#reference")
		public String charge(String reference) {
			return reference;
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class InvalidAnnotationConfiguration {

		@Bean
		InvalidController invalidController() {
			return new InvalidController();
		}

	}

	@RestController
	static class InvalidController {

		@PostMapping("/c")
		@Idempotent(ttl = "soon")
		String create() {
			return "c";
		}

	}

	@RestController
	static class PlaceholderController {

		@PostMapping("/p")
		@Idempotent(ttl = "${payments.ttl}")
		String create() {
			return "p";
		}

	}

	// Public: CGLIB defines the proxy in the filtered class loader, outside this
	// package's.
	@Configuration(proxyBeanMethods = false)
	static class EarlyBookingsConfiguration {

		@Bean
		static AuditPostProcessor auditPostProcessor(Bookings bookings) {
			return new AuditPostProcessor();
		}

		@Bean
		Bookings bookings() {
			return new Bookings();
		}

	}

	static class AuditPostProcessor implements BeanPostProcessor, PriorityOrdered {

		@Override
		public int getOrder() {
			return 0;
		}

	}

	public static class Bookings {

		@Idempotent(key = "#p0")
		public String book(String reference) {
			return "booked " + reference;
		}

	}

}
