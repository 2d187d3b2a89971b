package io.github.idempotency.autoconfigure;

import java.util.EnumSet;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.interceptor.IdempotentOperationSource;
import io.github.idempotency.openapi.IdempotencyOperationCustomizer;
import io.github.idempotency.web.IdempotencyCoordinator;
import io.github.idempotency.web.IdempotencyExceptionResolver;
import io.github.idempotency.web.IdempotencyFilter;
import io.github.idempotency.interceptor.IdempotencyLifecycle;
import io.github.idempotency.web.IdempotencyScopeResolver;
import io.github.idempotency.web.IdempotentHandlerInterceptor;
import io.github.idempotency.web.IdempotentHandlerVerifier;
import io.github.idempotency.web.IdempotentRequestMatcher;
import io.github.idempotency.json.JsonCanonicalizer;
import io.github.idempotency.web.ProblemResponseWriter;
import io.github.idempotency.web.RequestEndRegistration;
import io.github.idempotency.web.RequestCallSource;
import io.github.idempotency.web.RequestFingerprinter;
import jakarta.servlet.DispatcherType;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.function.SingletonSupplier;
import org.springframework.web.servlet.DispatcherServlet;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;

/**
 * Auto-configuration for {@code @Idempotent} Spring MVC handlers: the filter that buffers
 * their requests and holds back their responses, the handler interceptor, the adapter
 * from requests to the {@link IdempotencyLifecycle}, and the problem responses.
 *
 * @since 0.1.0
 */
@AutoConfiguration(after = IdempotencyAutoConfiguration.class)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass(DispatcherServlet.class)
@ConditionalOnBean(IdempotencyLifecycle.class)
public class IdempotencyWebMvcAutoConfiguration {

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
	RequestCallSource idempotencyRequestCallSource() {
		return new RequestCallSource();
	}

	@Bean
	@ConditionalOnMissingBean
	RequestFingerprinter idempotencyRequestFingerprinter(ObjectProvider<JsonCanonicalizer> jsonCanonicalizer,
			IdempotentRequestMatcher matcher) {
		return new RequestFingerprinter(jsonCanonicalizer.getIfAvailable(), matcher::sharedRouteConditions);
	}

	@Bean
	@ConditionalOnMissingBean
	IdempotencyScopeResolver idempotencyScopeResolver() {
		return IdempotencyScopeResolver.byRouteAndPrincipal();
	}

	@Bean
	@ConditionalOnMissingBean
	IdempotencyCoordinator idempotencyCoordinator(IdempotencyLifecycle lifecycle, IdempotencyProperties properties,
			RequestFingerprinter fingerprinter, IdempotencyScopeResolver scopeResolver) {
		return new IdempotencyCoordinator(lifecycle, properties.toHttpPolicy(), fingerprinter, scopeResolver);
	}

	@Bean
	@ConditionalOnMissingBean
	ProblemResponseWriter idempotencyProblemResponseWriter(ObjectProvider<RequestMappingHandlerAdapter> adapters,
			BeanFactory beanFactory) {
		// Resolved on first use, as the adapter is built from the MVC configuration this
		// writer is part of; then kept, as looking a bean up costs microseconds.
		return new ProblemResponseWriter(
				SingletonSupplier.of(() -> handlerAdapter(adapters, beanFactory).getMessageConverters()));
	}

	// Spring MVC's own, by the name its configuration gives it, where there are others
	// (Spring Data REST adds one).
	private static RequestMappingHandlerAdapter handlerAdapter(ObjectProvider<RequestMappingHandlerAdapter> adapters,
			BeanFactory beanFactory) {
		RequestMappingHandlerAdapter unique = adapters.getIfUnique();
		return (unique != null) ? unique
				: beanFactory.getBean("requestMappingHandlerAdapter", RequestMappingHandlerAdapter.class);
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
	IdempotencyStartupReport idempotencyStartupReport(IdempotencyStore store, IdempotentHandlerVerifier verifier,
			IdempotentOperationSource operations) {
		return new IdempotencyStartupReport(store, verifier::operationCount,
				IdempotencyStartupReport.methodOperations(operations));
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
		return new WebMvcConfigurer() {
			@Override
			public void addInterceptors(InterceptorRegistry registry) {
				registry.addInterceptor(interceptor);
			}
		};
	}

	@Bean
	@ConditionalOnMissingBean
	IdempotentRequestMatcher idempotentRequestMatcher(ConfigurableListableBeanFactory beanFactory,
			IdempotentOperationSource operations, IdempotencyProperties properties) {
		return new IdempotentRequestMatcher(beanFactory, operations, properties.methodNames());
	}

	@Bean
	@ConditionalOnMissingBean
	RequestEndRegistration idempotencyRequestEndRegistration() {
		return new RequestEndRegistration();
	}

	@Bean(FILTER_REGISTRATION_BEAN_NAME)
	@ConditionalOnMissingBean(name = FILTER_REGISTRATION_BEAN_NAME)
	FilterRegistrationBean<IdempotencyFilter> idempotencyFilterRegistration(IdempotentRequestMatcher matcher,
			IdempotencyProperties properties) {
		FilterRegistrationBean<IdempotencyFilter> registration = new FilterRegistrationBean<>(
				new IdempotencyFilter(matcher, properties.getMaxBodySize().toBytes()));
		registration.setOrder(FILTER_ORDER);
		// Async handlers finish on an async dispatch, answers sent with sendError on
		// the error page's, and a forward or include may reach an idempotent handler.
		registration.setDispatcherTypes(EnumSet.allOf(DispatcherType.class));
		return registration;
	}

	@Bean
	@ConditionalOnMissingBean
	static IdempotencyFilterRegistrationCheck idempotencyFilterRegistrationCheck(ListableBeanFactory beanFactory) {
		return new IdempotencyFilterRegistrationCheck(beanFactory);
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "org.springdoc.core.customizers.OperationCustomizer")
	static class OpenApiConfiguration {

		@Bean
		@ConditionalOnMissingBean
		IdempotencyOperationCustomizer idempotencyOperationCustomizer(IdempotentOperationSource operations,
				IdempotencyProperties properties) {
			return new IdempotencyOperationCustomizer(operations, properties.getHeaderName(),
					properties.getMaxKeyLength(), properties.methodNames(), properties.getReplayedHeaderName());
		}

	}

}
