package io.github.idempotency.autoconfigure;

import java.util.List;

import javax.sql.DataSource;

import io.github.idempotency.interceptor.OwnTransactionListener;
import io.github.idempotency.test.BootLine;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.junit.jupiter.api.Test;

import org.springframework.aop.framework.Advised;
import org.springframework.aop.support.AopUtils;
import org.springframework.aop.support.ComposablePointcut;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.RootClassFilter;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.TransactionExecutionListener;
import org.springframework.transaction.TransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.TransactionManagementConfigurer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every transaction manager that takes listeners gets the one that tells idempotent
 * methods how their own transactions ended, however the application made it.
 */
class OwnTransactionListenerRegistrarTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(AutoConfigurations
		.of(IdempotencyAutoConfiguration.class, AopAutoConfiguration.class, BootLine.jacksonAutoConfiguration()));

	@Test
	void transactionManagerShouldGetTheListenerOnce() {
		this.runner.withBean(DataSourceTransactionManager.class, () -> new DataSourceTransactionManager(dataSource()))
			.run((context) -> assertThat(
					context.getBean(DataSourceTransactionManager.class).getTransactionExecutionListeners())
				.filteredOn(OwnTransactionListener.class::isInstance)
				.hasSize(1));
	}

	// Set as a list that cannot be added to: the application's listener stays beside it.
	@Test
	void transactionManagerWithAnUnmodifiableListOfListenersShouldStart() {
		TransactionExecutionListener applications = new TransactionExecutionListener() {
		};
		this.runner.withBean(DataSourceTransactionManager.class, () -> {
			DataSourceTransactionManager manager = new DataSourceTransactionManager(dataSource());
			manager.setTransactionExecutionListeners(List.of(applications));
			return manager;
		}).run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(context.getBean(DataSourceTransactionManager.class).getTransactionExecutionListeners())
				.hasSize(2)
				.contains(applications);
		});
	}

	// Made while the transaction advice is, which the auto-proxy creator makes for the
	// first bean it looks at: possibly before any other post-processor applies.
	@Test
	void transactionManagerOfATransactionManagementConfigurerShouldGetTheListener() {
		this.runner.withUserConfiguration(ConfiguredTransactions.class)
			.run((context) -> assertThat(
					context.getBean(DataSourceTransactionManager.class).getTransactionExecutionListeners())
				.filteredOn(OwnTransactionListener.class::isInstance)
				.hasSize(1));
	}

	// Proxied by the class: the proxy's listener methods are final, and would reach its
	// own empty fields. Its target gets the listener.
	@Test
	void transactionManagerProxiedByItsClassShouldStartWithTheListenerOnItsTarget() {
		this.runner.withBean(AdvisedTransactionManager.class, () -> new AdvisedTransactionManager(dataSource()))
			.withBean(DefaultPointcutAdvisor.class,
					() -> new DefaultPointcutAdvisor(
							new ComposablePointcut(new RootClassFilter(AdvisedTransactionManager.class)),
							(MethodInterceptor) MethodInvocation::proceed))
			.run((context) -> {
				assertThat(context).hasNotFailed();
				AdvisedTransactionManager manager = context.getBean(AdvisedTransactionManager.class);
				assertThat(AopUtils.isCglibProxy(manager)).isTrue();
				assertThat(((AdvisedTransactionManager) ((Advised) manager).getTargetSource().getTarget())
					.getTransactionExecutionListeners()).filteredOn(OwnTransactionListener.class::isInstance)
					.hasSize(1);
			});
	}

	private static DataSource dataSource() {
		return new DriverManagerDataSource("jdbc:unused");
	}

	static class AdvisedTransactionManager extends DataSourceTransactionManager {

		AdvisedTransactionManager(DataSource dataSource) {
			super(dataSource);
		}

	}

	// The transaction manager bean is made when the transaction advice asks for it.
	@Configuration
	@EnableTransactionManagement
	static class ConfiguredTransactions implements TransactionManagementConfigurer {

		@Override
		public TransactionManager annotationDrivenTransactionManager() {
			return transactionManager();
		}

		@Bean
		DataSourceTransactionManager transactionManager() {
			return new DataSourceTransactionManager(dataSource());
		}

	}

}
