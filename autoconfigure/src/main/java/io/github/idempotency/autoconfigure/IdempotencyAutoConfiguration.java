package io.github.idempotency.autoconfigure;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.annotation.AnnotationIdempotentOperationSource;
import io.github.idempotency.interceptor.IdempotencyAdvisor;
import io.github.idempotency.interceptor.IdempotencyInterceptor;
import io.github.idempotency.interceptor.IdempotentOperationSource;
import io.github.idempotency.interceptor.ValidationBeforeIdempotencyPostProcessor;
import io.github.idempotency.observation.MeterRegistryOutcomeListener;
import io.github.idempotency.observation.ObservedIdempotencyStore;
import io.github.idempotency.openapi.IdempotencyOperationCustomizer;
import io.github.idempotency.web.AsyncWorkTracker;
import io.github.idempotency.web.IdempotencyCoordinator;
import io.github.idempotency.web.IdempotencyExceptionResolver;
import io.github.idempotency.web.IdempotencyFilter;
import io.github.idempotency.interceptor.IdempotencyLifecycle;
import io.github.idempotency.interceptor.IdempotencyOutcomeListener;
import io.github.idempotency.web.IdempotencyScopeResolver;
import io.github.idempotency.web.IdempotentHandlerInterceptor;
import io.github.idempotency.web.IdempotentHandlerVerifier;
import io.github.idempotency.web.IdempotentRequestMatcher;
import io.github.idempotency.web.Jackson2JsonCanonicalizer;
import io.github.idempotency.web.Jackson3JsonCanonicalizer;
import io.github.idempotency.web.JsonCanonicalizer;
import io.github.idempotency.web.ProblemResponseWriter;
import io.github.idempotency.web.RequestFingerprinter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Role;
import org.springframework.core.env.Environment;
import org.springframework.util.function.SingletonSupplier;
import org.springframework.web.servlet.DispatcherServlet;
import org.springframework.web.servlet.config.annotation.AsyncSupportConfigurer;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;

/**
 * Auto-configuration for {@code @Idempotent} Spring MVC endpoints.
 *
 * <p>
 * Stores records in Redis when a single
 * {@link org.springframework.data.redis.connection.RedisConnectionFactory} exists, and in
 * memory otherwise (with a warning, since that protects a single node only). Every bean
 * backs off when the application defines its own; {@code idempotency.enabled=false} turns
 * everything off.
 *
 * @since 0.1.0
 */
@AutoConfiguration(afterName = { "org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration",
		"org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration" })
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass(DispatcherServlet.class)
@ConditionalOnProperty(prefix = "idempotency", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(IdempotencyProperties.class)
@Import({ RedisStoreConfiguration.class, InMemoryStoreConfiguration.class,
		IdempotencyAutoConfiguration.ProxyConfiguration.class, IdempotencyAutoConfiguration.Jackson3Configuration.class,
		IdempotencyAutoConfiguration.Jackson2Configuration.class })
public class IdempotencyAutoConfiguration {

	/**
	 * Name of the filter registration bean.
	 */
	public static final String FILTER_REGISTRATION_BEAN_NAME = "idempotencyFilterRegistration";

	/**
	 * Order of {@link IdempotencyFilter}: after Spring Security's filter chain, so that
	 * only authenticated requests are wrapped, and before filters of default order.
	 */
	public static final int FILTER_ORDER = -90;

	@Bean
	@ConditionalOnMissingBean
	RequestFingerprinter idempotencyRequestFingerprinter(ObjectProvider<JsonCanonicalizer> jsonCanonicalizer) {
		return new RequestFingerprinter(jsonCanonicalizer.getIfAvailable());
	}

	@Bean
	@ConditionalOnMissingBean
	IdempotencyScopeResolver idempotencyScopeResolver() {
		return IdempotencyScopeResolver.byRouteAndPrincipal();
	}

	@Bean
	@ConditionalOnMissingBean
	IdempotencyLifecycle idempotencyLifecycle(IdempotencyStore store, IdempotencyProperties properties,
			ObjectProvider<IdempotencyOutcomeListener> outcomes, ObjectProvider<ObservationRegistry> observations) {
		ObservationRegistry observationRegistry = observations.getIfAvailable();
		IdempotencyStore observed = (observationRegistry != null && !observationRegistry.isNoop())
				? new ObservedIdempotencyStore(store, observationRegistry) : store;
		return new IdempotencyLifecycle(observed, properties.toPolicy(),
				outcomes.getIfAvailable(() -> IdempotencyOutcomeListener.NONE));
	}

	@Bean
	@ConditionalOnMissingBean
	IdempotencyCoordinator idempotencyCoordinator(IdempotencyLifecycle lifecycle, IdempotencyProperties properties,
			RequestFingerprinter fingerprinter, IdempotencyScopeResolver scopeResolver) {
		return new IdempotencyCoordinator(lifecycle, properties.toHttpPolicy(), fingerprinter, scopeResolver);
	}

	@Bean
	@ConditionalOnMissingBean
	ProblemResponseWriter idempotencyProblemResponseWriter(ObjectProvider<RequestMappingHandlerAdapter> adapter) {
		// Resolved on first use, as the adapter is built from the MVC configuration this
		// writer is part of; then kept, as looking a bean up costs microseconds.
		return new ProblemResponseWriter(SingletonSupplier.of(() -> adapter.getObject().getMessageConverters()));
	}

	@Bean
	@ConditionalOnMissingBean
	IdempotencyExceptionResolver idempotencyExceptionResolver(ProblemResponseWriter problemWriter,
			IdempotencyProperties properties) {
		return new IdempotencyExceptionResolver(problemWriter, properties.getReplayedHeaderName(),
				properties.getReplayedHeaders());
	}

	@Bean
	@ConditionalOnMissingBean
	IdempotentHandlerInterceptor idempotentHandlerInterceptor(IdempotentOperationSource operations,
			IdempotencyCoordinator coordinator, ProblemResponseWriter problemWriter, IdempotencyProperties properties,
			IdempotentHandlerVerifier verifier) {
		return new IdempotentHandlerInterceptor(operations, coordinator, problemWriter, properties.methodNames(),
				verifier);
	}

	@Bean
	@ConditionalOnMissingBean
	IdempotencyStartupReport idempotencyStartupReport(IdempotencyStore store, IdempotentHandlerVerifier verifier) {
		return new IdempotencyStartupReport(store, verifier);
	}

	@Bean
	@ConditionalOnMissingBean
	IdempotentHandlerVerifier idempotentHandlerVerifier(ConfigurableListableBeanFactory beanFactory,
			IdempotentOperationSource operations) {
		return new IdempotentHandlerVerifier(beanFactory, operations);
	}

	@Bean
	@ConditionalOnMissingBean(name = "idempotencyWebMvcConfigurer")
	WebMvcConfigurer idempotencyWebMvcConfigurer(IdempotentHandlerInterceptor interceptor) {
		AsyncWorkTracker asyncWork = new AsyncWorkTracker();
		return new WebMvcConfigurer() {
			@Override
			public void addInterceptors(InterceptorRegistry registry) {
				registry.addInterceptor(interceptor);
			}

			@Override
			public void configureAsyncSupport(AsyncSupportConfigurer configurer) {
				configurer.registerCallableInterceptors(asyncWork);
				configurer.registerDeferredResultInterceptors(asyncWork);
			}
		};
	}

	@Bean
	@ConditionalOnMissingBean
	IdempotentRequestMatcher idempotentRequestMatcher(ConfigurableListableBeanFactory beanFactory,
			IdempotentOperationSource operations, IdempotencyProperties properties) {
		return new IdempotentRequestMatcher(beanFactory, operations, properties.methodNames());
	}

	@Bean(FILTER_REGISTRATION_BEAN_NAME)
	@ConditionalOnMissingBean(name = FILTER_REGISTRATION_BEAN_NAME)
	FilterRegistrationBean<IdempotencyFilter> idempotencyFilterRegistration(IdempotentRequestMatcher matcher) {
		FilterRegistrationBean<IdempotencyFilter> registration = new FilterRegistrationBean<>(
				new IdempotencyFilter(matcher));
		registration.setOrder(FILTER_ORDER);
		return registration;
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "org.springdoc.core.customizers.OperationCustomizer")
	static class OpenApiConfiguration {

		@Bean
		@ConditionalOnMissingBean
		IdempotencyOperationCustomizer idempotencyOperationCustomizer(IdempotentOperationSource operations,
				IdempotencyProperties properties) {
			return new IdempotencyOperationCustomizer(operations, properties.getHeaderName(),
					properties.getMaxKeyLength(), properties.methodNames());
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(MeterRegistry.class)
	static class MetricsConfiguration {

		@Bean
		@ConditionalOnMissingBean
		IdempotencyOutcomeListener idempotencyOutcomeListener(ObjectProvider<MeterRegistry> registry) {
			MeterRegistry meterRegistry = registry.getIfAvailable();
			return (meterRegistry != null) ? new MeterRegistryOutcomeListener(meterRegistry)
					: IdempotencyOutcomeListener.NONE;
		}

	}

	/**
	 * Jackson 3, the generation Spring Boot 4 configures. Preferred where both are
	 * present, as in a Boot 4 application whose libraries still bring Jackson 2; both
	 * generations give the same canonical bytes, so a mixed fleet agrees on fingerprints.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "tools.jackson.core.json.JsonFactory")
	static class Jackson3Configuration {

		@Bean
		@ConditionalOnMissingBean
		JsonCanonicalizer idempotencyJackson3JsonCanonicalizer() {
			return new Jackson3JsonCanonicalizer();
		}

	}

	/**
	 * Jackson 2, for Spring Boot 3 applications, which do not have Jackson 3.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "com.fasterxml.jackson.core.JsonFactory")
	@ConditionalOnMissingClass("tools.jackson.core.json.JsonFactory")
	static class Jackson2Configuration {

		@Bean
		@ConditionalOnMissingBean
		JsonCanonicalizer idempotencyJackson2JsonCanonicalizer() {
			return new Jackson2JsonCanonicalizer();
		}

	}

	/**
	 * The advice around idempotent methods. Infrastructure beans, so that the auto-proxy
	 * creator that applies them may create them early.
	 */
	@Configuration(proxyBeanMethods = false)
	@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
	static class ProxyConfiguration {

		@Bean
		@ConditionalOnMissingBean
		@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
		static IdempotentOperationSource idempotentOperationSource() {
			return new AnnotationIdempotentOperationSource();
		}

		@Bean
		@ConditionalOnMissingBean
		@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
		static IdempotencyInterceptor idempotencyInterceptor() {
			return new IdempotencyInterceptor();
		}

		@Bean
		@ConditionalOnMissingBean
		@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
		static ValidationBeforeIdempotencyPostProcessor validationBeforeIdempotencyPostProcessor() {
			return new ValidationBeforeIdempotencyPostProcessor();
		}

		@Bean
		@ConditionalOnMissingBean
		@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
		static IdempotencyAdvisor idempotencyAdvisor(IdempotentOperationSource idempotentOperationSource,
				IdempotencyInterceptor idempotencyInterceptor, Environment environment) {
			IdempotencyAdvisor advisor = new IdempotencyAdvisor(idempotentOperationSource, idempotencyInterceptor);
			// Read from the environment: this bean is created before properties are
			// bound.
			advisor.setOrder(environment.getProperty("idempotency.advisor-order", Integer.class,
					IdempotencyAdvisor.DEFAULT_ORDER));
			return advisor;
		}

	}

}
