package io.github.idempotency.autoconfigure;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import io.github.idempotency.IdempotencyException;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.annotation.AnnotationIdempotentOperationSource;
import io.github.idempotency.interceptor.ControllerProxyPostProcessor;
import io.github.idempotency.interceptor.IdempotencyAdvisor;
import io.github.idempotency.interceptor.IdempotencyInterceptor;
import io.github.idempotency.interceptor.IdempotentCallSource;
import io.github.idempotency.interceptor.IdempotentMethodInvoker;
import io.github.idempotency.interceptor.RefusalTranslator;
import io.github.idempotency.interceptor.IdempotentOperationSource;
import io.github.idempotency.interceptor.ValidationBeforeIdempotencyPostProcessor;
import io.github.idempotency.observation.MeterRegistryOutcomeListener;
import io.github.idempotency.observation.ObservedIdempotencyStore;
import io.github.idempotency.store.jdbc.JdbcIdempotencyStore;
import io.github.idempotency.interceptor.IdempotencyLifecycle;
import io.github.idempotency.interceptor.IdempotencyOutcomeListener;
import io.github.idempotency.json.Jackson2JsonCanonicalizer;
import io.github.idempotency.json.Jackson3JsonCanonicalizer;
import io.github.idempotency.json.Jackson2ResultCodec;
import io.github.idempotency.json.Jackson3ResultCodec;
import io.github.idempotency.json.JsonCanonicalizer;
import io.github.idempotency.json.ResultCodec;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.aopalliance.intercept.MethodInterceptor;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.NoneNestedConditions;
import org.springframework.boot.autoconfigure.condition.SearchStrategy;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Role;
import org.springframework.core.env.Environment;
import org.springframework.transaction.interceptor.TransactionInterceptor;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;

/**
 * Auto-configuration of what every idempotent operation needs, whatever brings its calls:
 * the store, the lifecycle and the advice around {@code @Idempotent} methods. Needs no
 * web application; {@link IdempotencyWebMvcAutoConfiguration} adds Spring MVC requests.
 *
 * <p>
 * Stores records in Redis when a single
 * {@link org.springframework.data.redis.connection.RedisConnectionFactory} exists, else
 * in a table of the application's database when a single {@link javax.sql.DataSource}
 * exists, and in memory otherwise (with a warning, since that protects a single node
 * only); {@code idempotency.store} chooses one explicitly. Every bean backs off when the
 * application defines its own; {@code idempotency.enabled=false} turns everything off.
 *
 * @since 0.1.0
 */
@AutoConfiguration(afterName = { "org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration",
		"org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration",
		"org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
		"org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
		"org.springframework.boot.autoconfigure.jackson.JacksonAutoConfiguration",
		"org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration" })
@Conditional(EnabledCondition.Idempotency.class)
@EnableConfigurationProperties(IdempotencyProperties.class)
@Import({ RedisStoreConfiguration.class, RedisEvictionCheckConfiguration.class, JdbcStoreConfiguration.class,
		InMemoryStoreConfiguration.class, JdbcStoreMaintenanceConfiguration.class,
		IdempotencyAutoConfiguration.ProxyConfiguration.class, IdempotencyAutoConfiguration.Jackson3Configuration.class,
		IdempotencyAutoConfiguration.Jackson2Configuration.class })
public class IdempotencyAutoConfiguration {

	private static final Log logger = LogFactory.getLog(IdempotencyAutoConfiguration.class);

	private static final String TRANSACTION_INTERCEPTOR = "org.springframework.transaction.interceptor.TransactionInterceptor";

	private static final String METER_LISTENER = "idempotencyMeterRegistryOutcomeListener";

	private static final String JDBC_TEMPLATE = "org.springframework.jdbc.core.JdbcTemplate";

	@Bean
	@ConditionalOnMissingBean
	IdempotencyLifecycle idempotencyLifecycle(IdempotencyStore store, IdempotencyProperties properties,
			ObjectProvider<IdempotencyOutcomeListener> outcomes,
			@Qualifier(METER_LISTENER) ObjectProvider<IdempotencyOutcomeListener> meterListener,
			ObjectProvider<ObservationRegistry> observations) {
		List<IdempotencyOutcomeListener> listeners = new ArrayList<>(outcomes.orderedStream().toList());
		// A counter of the application's own declared as any listener replaces the
		// starter's, as one declared as a MeterRegistryOutcomeListener does. Its class is
		// not named here, where Micrometer may be missing.
		IdempotencyOutcomeListener starters = meterListener.getIfAvailable();
		if (starters != null && listeners.stream()
			.anyMatch((listener) -> listener != starters && starters.getClass().isInstance(listener))) {
			listeners.remove(starters);
		}
		return new IdempotencyLifecycle(observed(store, observations), properties.toPolicy(), allOf(listeners));
	}

	// Every listener hears every outcome, the application's own beside the metrics, even
	// after one of them threw; the lifecycle logs what was thrown.
	private static IdempotencyOutcomeListener allOf(List<IdempotencyOutcomeListener> listeners) {
		return switch (listeners.size()) {
			case 0 -> IdempotencyOutcomeListener.NONE;
			case 1 -> listeners.get(0);
			default -> (operation, outcome) -> {
				RuntimeException failure = null;
				for (IdempotencyOutcomeListener listener : listeners) {
					try {
						listener.onOutcome(operation, outcome);
					}
					catch (RuntimeException ex) {
						if (failure == null) {
							failure = ex;
						}
						else {
							failure.addSuppressed(ex);
						}
					}
				}
				if (failure != null) {
					throw failure;
				}
			};
		};
	}

	static IdempotencyStore observed(IdempotencyStore store, ObjectProvider<ObservationRegistry> observations) {
		ObservationRegistry registry = observations.getIfAvailable();
		return (registry != null && !registry.isNoop()) ? new ObservedIdempotencyStore(store, registry) : store;
	}

	/**
	 * The method path, for {@code @Idempotent} methods of beans other than web handlers;
	 * a bean method rather than a configuration class, so that its condition sees the
	 * codec the nested configurations define.
	 */
	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnBean({ ResultCodec.class, JsonCanonicalizer.class })
	IdempotentMethodInvoker idempotentMethodInvoker(IdempotencyLifecycle lifecycle, ResultCodec codec,
			JsonCanonicalizer canonicalizer, IdempotencyStore store, IdempotencyProperties properties,
			ObjectProvider<RefusalTranslator> refusalTranslators, ListableBeanFactory beanFactory) {
		IdempotentMethodInvoker invoker = new IdempotentMethodInvoker(lifecycle, codec, canonicalizer);
		invoker.setCompleteInTransaction(properties.getJdbc().isCompleteInTransaction());
		invoker.setMaxResultSize(properties.getMaxResultSize().toBytes());
		if (properties.getJdbc().isCompleteInTransaction() && neverJoinsTransactions(store)) {
			logger.warn("idempotency.jdbc.complete-in-transaction is set, but records are kept in " + store
					+ ", which cannot store them within a transaction: outcomes are stored once the transaction has"
					+ " committed. Set idempotency.store=jdbc to store them with the method's writes");
		}
		List<RefusalTranslator> translators = refusalTranslators.orderedStream().toList();
		// Each translator knows its own transport's methods and leaves others' alone.
		invoker.setRefusalTranslator(new RefusalTranslator() {

			@Override
			public Throwable translate(IdempotencyException refusal, Method method) {
				for (RefusalTranslator translator : translators) {
					Throwable translated = translator.translate(refusal, method);
					if (translated != refusal) {
						return translated;
					}
				}
				return refusal;
			}

			@Override
			public CompletionStage<Throwable> translateLater(IdempotencyException refusal, Method method) {
				CompletionStage<Throwable> translated = CompletableFuture.completedFuture(refusal);
				for (RefusalTranslator translator : translators) {
					translated = translated.thenCompose((found) -> (found != refusal)
							? CompletableFuture.completedFuture(found) : translator.translateLater(refusal, method));
				}
				return translated;
			}

			@Override
			public @Nullable CompletionStage<?> callAgainLater(IdempotencyException refusal, Method method) {
				for (RefusalTranslator translator : translators) {
					CompletionStage<?> later = translator.callAgainLater(refusal, method);
					if (later != null) {
						return later;
					}
				}
				return null;
			}

			@Override
			public boolean failsFuture(Method method) {
				return translators.stream().anyMatch((translator) -> translator.failsFuture(method));
			}

			@Override
			public boolean isTranslated(Throwable thrown) {
				return translators.stream().anyMatch((translator) -> translator.isTranslated(thrown));
			}

		});
		ClassLoader classLoader = IdempotencyAutoConfiguration.class.getClassLoader();
		if (ClassUtils.isPresent(TRANSACTION_INTERCEPTOR, classLoader)
				&& ClassUtils.isPresent(JDBC_TEMPLATE, classLoader)) {
			invoker.setTransactionAdvice(TransactionAdvice.find(store, beanFactory));
		}
		return invoker;
	}

	// A store that keeps the interface's answer to whether it can join a transaction.
	private static boolean neverJoinsTransactions(IdempotencyStore store) {
		Method answer = ReflectionUtils.findMethod(store.getClass(), "canCompleteInCurrentTransaction");
		return answer != null && answer.getDeclaringClass() == IdempotencyStore.class;
	}

	/**
	 * The application's transaction advice, for a store that can complete records within
	 * transactions; loaded only where Spring's transaction and JDBC support are on the
	 * class path.
	 */
	private static final class TransactionAdvice {

		static @Nullable MethodInterceptor find(IdempotencyStore store, ListableBeanFactory beanFactory) {
			if (!(store instanceof JdbcIdempotencyStore)) {
				return null;
			}
			return beanFactory.getBeanProvider(TransactionInterceptor.class).getIfUnique();
		}

	}

	/**
	 * Adds the listener that tells idempotent methods how the transactions they begin for
	 * themselves end to every transaction manager that takes listeners (every one of
	 * Spring's), the application's own included.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "org.springframework.transaction.ConfigurableTransactionManager")
	static class TransactionListenerConfiguration {

		@Bean
		@ConditionalOnMissingBean
		static OwnTransactionListenerRegistrar idempotencyOwnTransactionListenerRegistrar() {
			return new OwnTransactionListenerRegistrar();
		}

	}

	// The reactive application's check, in a member class, is registered first.
	@Bean
	@ConditionalOnMissingBean
	static IdempotentOperationsCheck idempotentOperationsCheck(IdempotentOperationSource operations,
			ObjectProvider<IdempotentMethodInvoker> invoker, ListableBeanFactory beanFactory) {
		return new IdempotentOperationsCheck(operations, invoker, beanFactory, false);
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
	static class ReactiveWebConfiguration {

		@Bean
		@ConditionalOnMissingBean
		static IdempotentOperationsCheck idempotentReactiveOperationsCheck(IdempotentOperationSource operations,
				ObjectProvider<IdempotentMethodInvoker> invoker, ListableBeanFactory beanFactory) {
			return new IdempotentOperationsCheck(operations, invoker, beanFactory, true);
		}

	}

	// A Spring MVC application's report, which counts HTTP operations too, comes from its
	// auto-configuration; every other application, reactive or on another servlet
	// framework included, gets this one.
	@Bean
	@ConditionalOnMissingBean
	@Conditional(OutsideSpringMvc.class)
	IdempotencyStartupReport idempotencyStartupReport(IdempotencyStore store, IdempotentOperationSource operations) {
		return new IdempotencyStartupReport(store, null, IdempotencyStartupReport.methodOperations(operations));
	}

	/**
	 * Where {@link IdempotencyWebMvcAutoConfiguration} does not apply.
	 */
	static final class OutsideSpringMvc extends NoneNestedConditions {

		OutsideSpringMvc() {
			super(ConfigurationPhase.REGISTER_BEAN);
		}

		@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
		@ConditionalOnClass(name = "org.springframework.web.servlet.DispatcherServlet")
		static final class SpringMvc {

		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(MeterRegistry.class)
	static class MetricsConfiguration {

		// Beside any listener of the application's: one of its own does not turn the
		// metrics off, one that counts them in its own way does.
		@Bean(METER_LISTENER)
		@ConditionalOnMissingBean(MeterRegistryOutcomeListener.class)
		IdempotencyOutcomeListener idempotencyMeterRegistryOutcomeListener(ObjectProvider<MeterRegistry> registry) {
			MeterRegistry meterRegistry = registry.getIfAvailable();
			return (meterRegistry != null) ? new MeterRegistryOutcomeListener(meterRegistry)
					: IdempotencyOutcomeListener.NONE;
		}

	}

	/**
	 * The method path's codec on the application's Jackson 3 mapper, which Spring Boot 4
	 * configures; on Spring Boot 3.5, only where the application has no Jackson 2 mapper.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "tools.jackson.databind.ObjectMapper")
	@ConditionalOnBean(type = "tools.jackson.databind.ObjectMapper")
	@Conditional(NotTheOtherLinesMapper.Jackson3.class)
	static class Jackson3CodecConfiguration {

		@Bean
		@ConditionalOnMissingBean
		ResultCodec idempotencyJackson3ResultCodec(tools.jackson.databind.ObjectMapper mapper) {
			return new Jackson3ResultCodec(mapper);
		}

	}

	/**
	 * The method path's codec on the application's Jackson 2 mapper, which Spring Boot
	 * 3.5 configures; on Spring Boot 4, only where the application has no Jackson 3
	 * mapper.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "com.fasterxml.jackson.databind.ObjectMapper")
	@ConditionalOnBean(type = "com.fasterxml.jackson.databind.ObjectMapper")
	@Conditional(NotTheOtherLinesMapper.Jackson2.class)
	static class Jackson2CodecConfiguration {

		@Bean
		@ConditionalOnMissingBean
		ResultCodec idempotencyJackson2ResultCodec(com.fasterxml.jackson.databind.ObjectMapper mapper) {
			return new Jackson2ResultCodec(mapper);
		}

	}

	/**
	 * Where an application has mappers of both Jackson generations (a Spring Boot 4
	 * application that configures Jackson 2 too for a library, a Spring Boot 3.5 one
	 * trying Jackson 3), values are kept with the one its Spring Boot line configures,
	 * whichever codec configuration is read first.
	 */
	abstract static class NotTheOtherLinesMapper extends NoneNestedConditions {

		NotTheOtherLinesMapper() {
			super(ConfigurationPhase.REGISTER_BEAN);
		}

		static class Jackson3 extends NotTheOtherLinesMapper {

			@ConditionalOnClass(name = "org.springframework.boot.autoconfigure.jackson.JacksonAutoConfiguration")
			@ConditionalOnBean(type = "com.fasterxml.jackson.databind.ObjectMapper")
			static class OnBoot35WithJackson2Mapper {

			}

		}

		static class Jackson2 extends NotTheOtherLinesMapper {

			@ConditionalOnClass(name = "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration")
			@ConditionalOnBean(type = "tools.jackson.databind.ObjectMapper")
			static class OnBoot4WithJackson3Mapper {

			}

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
		static IdempotentOperationSource idempotentOperationSource(Environment environment) {
			// Read from the environment: this bean is created before properties are
			// bound.
			List<String> methods = Binder.get(environment)
				.bind("idempotency.methods", Bindable.listOf(String.class))
				.orElseGet(() -> new IdempotencyProperties().getMethods());
			return new AnnotationIdempotentOperationSource(IdempotencyProperties.methodNames(methods));
		}

		@Bean
		@ConditionalOnMissingBean
		@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
		static IdempotencyInterceptor idempotencyInterceptor(IdempotentOperationSource idempotentOperationSource,
				ObjectProvider<IdempotentCallSource> callSources, ObjectProvider<IdempotentMethodInvoker> methods) {
			return new IdempotencyInterceptor(idempotentOperationSource, callSources, methods);
		}

		// Post-processors work on their own context's beans only: a parent's would not
		// see a child's.
		@Bean
		@ConditionalOnMissingBean(search = SearchStrategy.CURRENT)
		@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
		static ValidationBeforeIdempotencyPostProcessor validationBeforeIdempotencyPostProcessor() {
			return new ValidationBeforeIdempotencyPostProcessor();
		}

		@Bean
		@ConditionalOnMissingBean(search = SearchStrategy.CURRENT)
		@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
		static ControllerProxyPostProcessor controllerProxyPostProcessor(
				ObjectProvider<IdempotentOperationSource> idempotentOperationSource) {
			return new ControllerProxyPostProcessor(idempotentOperationSource);
		}

		@Bean
		@ConditionalOnMissingBean
		@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
		static IdempotencyAdvisor idempotencyAdvisor(IdempotentOperationSource idempotentOperationSource,
				IdempotencyInterceptor idempotencyInterceptor, Environment environment) {
			IdempotencyAdvisor advisor = new IdempotencyAdvisor(idempotentOperationSource, idempotencyInterceptor);
			// Bound here: this bean is created before the properties are. A value that
			// is no number fails startup naming the property.
			advisor.setOrder(Binder.get(environment)
				.bind("idempotency.advisor-order", Integer.class)
				.orElse(IdempotencyAdvisor.DEFAULT_ORDER));
			return advisor;
		}

	}

}
