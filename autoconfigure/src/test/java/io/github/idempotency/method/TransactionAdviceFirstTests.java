package io.github.idempotency.method;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.autoconfigure.IdempotencyAutoConfiguration;
import io.github.idempotency.interceptor.IdempotencyInterceptor;
import io.github.idempotency.test.BootLine;
import io.github.idempotency.test.ThreadTransactionManager;
import org.aopalliance.intercept.MethodInterceptor;
import org.junit.jupiter.api.Test;

import org.springframework.aop.Advisor;
import org.springframework.aop.ProxyMethodInvocation;
import org.springframework.aop.framework.Advised;
import org.springframework.aop.support.ComposablePointcut;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.RootClassFilter;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.interceptor.DefaultTransactionAttribute;
import org.springframework.transaction.interceptor.MatchAlwaysTransactionAttributeSource;
import org.springframework.transaction.interceptor.TransactionInterceptor;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * An application that orders its transaction advice before the idempotency advice: a
 * method that begins a transaction of its own then runs it around the claim, and its
 * outcome waits for that transaction.
 */
class TransactionAdviceFirstTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(IdempotencyAutoConfiguration.class, AopAutoConfiguration.class,
				BootLine.jacksonAutoConfiguration()))
		.withPropertyValues("idempotency.store=memory")
		.withUserConfiguration(LedgerConfiguration.class);

	// Kept before its transaction committed, the outcome would be replayed for writes
	// the failed commit undid.
	@Test
	void methodWithATransactionOfItsOwnShouldBeKeptOnlyOnceThatTransactionHasCommitted() {
		this.runner.withUserConfiguration(TransactionAdviceFirst.class).run((context) -> {
			Ledger ledger = context.getBean(Ledger.class);
			assertThat(Arrays.stream(((Advised) ledger).getAdvisors()).map(Advisor::getAdvice)).filteredOn(
					(advice) -> advice instanceof TransactionInterceptor || advice instanceof IdempotencyInterceptor)
				.map(Object::getClass)
				.containsExactly(TransactionInterceptor.class, IdempotencyInterceptor.class);
			ledger.failNextCommit();
			assertThatIllegalStateException().isThrownBy(() -> ledger.book("payment-1"))
				.withMessage("The commit failed");
			assertThat(ledger.book("payment-1")).isEqualTo(2);
			assertThat(ledger.book("payment-1")).isEqualTo(2);
			assertThat(ledger.runs()).isEqualTo(2);
		});
	}

	// Every attempt runs in the one transaction begun around them all: an attempt after
	// one that failed runs under the hold the failed one left until that transaction
	// ends.
	@Test
	void attemptAfterOneThatFailedInTheSameTransactionShouldRun() {
		this.runner.withUserConfiguration(TransactionAdviceFirst.class, RetryConfiguration.class).run((context) -> {
			Ledger ledger = context.getBean(Ledger.class);
			assertThat(ledger.bookFailingOnce("payment-2")).isEqualTo(2);
			assertThat(ledger.bookFailingOnce("payment-2")).isEqualTo(2);
			assertThat(ledger.runs()).isEqualTo(2);
		});
	}

	// Transaction advice in front that applies REQUIRED to the method begins no
	// transaction of its own: that one begins inside the claim, and its outcome must not
	// wait for the caller's, whose rollback would run it again although its writes
	// committed.
	@Test
	void methodWhoseOwnTransactionBeginsInsideTheClaimShouldNotWaitForAnOuterOne() {
		this.runner.withUserConfiguration(OuterTransactionFirst.class).run((context) -> {
			Ledger ledger = context.getBean(Ledger.class);
			TransactionTemplate caller = new TransactionTemplate(context.getBean(PlatformTransactionManager.class));
			assertThatIllegalStateException().isThrownBy(() -> caller.executeWithoutResult((status) -> {
				assertThat(ledger.book("payment-3")).isEqualTo(1);
				throw new IllegalStateException("The caller failed");
			})).withMessage("The caller failed");
			assertThat(ledger.book("payment-3")).isEqualTo(1);
			assertThat(ledger.runs()).isEqualTo(1);
		});
	}

	// Transaction advice in front that begins a new transaction, as the annotation-driven
	// advice after the idempotency advice does too: the method's writes commit in the
	// inner one, before its outcome is kept, and a failure of the outer one must not run
	// it again.
	@Test
	void methodWhoseWritesCommitInsideTheClaimShouldNotWaitForANewTransactionAroundIt() {
		this.runner.withUserConfiguration(NewOuterTransactionFirst.class).run((context) -> {
			Ledger ledger = context.getBean(Ledger.class);
			assertThatIllegalStateException().isThrownBy(() -> ledger.book("payment-4"))
				.withMessage("Failed after the call");
			assertThat(ledger.book("payment-4")).isEqualTo(1);
			assertThat(ledger.runs()).isEqualTo(1);
		});
	}

	@Configuration(proxyBeanMethods = false)
	static class LedgerConfiguration {

		@Bean
		Ledger ledger() {
			return new Ledger();
		}

		@Bean
		PlatformTransactionManager transactionManager() {
			return new ThreadTransactionManager();
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableTransactionManagement(order = Ordered.HIGHEST_PRECEDENCE)
	static class TransactionAdviceFirst {

	}

	@Configuration(proxyBeanMethods = false)
	static class RetryConfiguration {

		// Between the transaction advice and the idempotency advice (order 1000).
		@Bean
		static DefaultPointcutAdvisor retryAdvisor() {
			DefaultPointcutAdvisor advisor = new DefaultPointcutAdvisor(
					AnnotationMatchingPointcut.forMethodAnnotation(Retried.class), (MethodInterceptor) (invocation) -> {
						try {
							return ((ProxyMethodInvocation) invocation).invocableClone().proceed();
						}
						catch (IllegalStateException ex) {
							return ((ProxyMethodInvocation) invocation).invocableClone().proceed();
						}
					});
			advisor.setOrder(500);
			return advisor;
		}

	}

	// Annotation-driven transactions in their usual place, after the idempotency
	// advice, and in front of everything an advice of the application's own that
	// applies REQUIRED.
	@Configuration(proxyBeanMethods = false)
	@EnableTransactionManagement
	static class OuterTransactionFirst {

		@Bean
		static DefaultPointcutAdvisor outerTransactionAdvisor(PlatformTransactionManager transactionManager) {
			return transactionAdviceInFront(transactionManager, TransactionDefinition.PROPAGATION_REQUIRED);
		}

	}

	// As above, with the advice in front beginning a new transaction, and advice between
	// it and the idempotency advice that fails after the call, rolling it back.
	@Configuration(proxyBeanMethods = false)
	@EnableTransactionManagement
	static class NewOuterTransactionFirst {

		@Bean
		static DefaultPointcutAdvisor outerTransactionAdvisor(PlatformTransactionManager transactionManager) {
			return transactionAdviceInFront(transactionManager, TransactionDefinition.PROPAGATION_REQUIRES_NEW);
		}

		@Bean
		static DefaultPointcutAdvisor failingAdvisor() {
			AtomicBoolean failed = new AtomicBoolean();
			DefaultPointcutAdvisor advisor = new DefaultPointcutAdvisor(
					AnnotationMatchingPointcut.forMethodAnnotation(Idempotent.class),
					(MethodInterceptor) (invocation) -> {
						Object result = invocation.proceed();
						if (failed.compareAndSet(false, true)) {
							throw new IllegalStateException("Failed after the call");
						}
						return result;
					});
			advisor.setOrder(500);
			return advisor;
		}

	}

	// Transaction advice of the application's own, in front of every other, that gives
	// every method of the ledger the propagation.
	static DefaultPointcutAdvisor transactionAdviceInFront(PlatformTransactionManager transactionManager,
			int propagation) {
		MatchAlwaysTransactionAttributeSource attributes = new MatchAlwaysTransactionAttributeSource();
		attributes.setTransactionAttribute(new DefaultTransactionAttribute(propagation));
		DefaultPointcutAdvisor advisor = new DefaultPointcutAdvisor(
				new ComposablePointcut(new RootClassFilter(Ledger.class)),
				new TransactionInterceptor(transactionManager, attributes));
		advisor.setOrder(Ordered.HIGHEST_PRECEDENCE);
		return advisor;
	}

	@Retention(RetentionPolicy.RUNTIME)
	@Target(ElementType.METHOD)
	@interface Retried {

	}

	static class Ledger {

		private final AtomicInteger runs = new AtomicInteger();

		private volatile boolean failNextCommit;

		@Transactional(propagation = Propagation.REQUIRES_NEW)
		@Idempotent(key = "#payment")
		public int book(String payment) {
			int run = this.runs.incrementAndGet();
			if (this.failNextCommit) {
				this.failNextCommit = false;
				TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {

					@Override
					public void beforeCommit(boolean readOnly) {
						throw new IllegalStateException("The commit failed");
					}

				});
			}
			return run;
		}

		@Transactional(propagation = Propagation.REQUIRES_NEW)
		@Idempotent(key = "#payment")
		@Retried
		public int bookFailingOnce(String payment) {
			int run = this.runs.incrementAndGet();
			if (run == 1) {
				throw new IllegalStateException("The ledger is busy");
			}
			return run;
		}

		public void failNextCommit() {
			this.failNextCommit = true;
		}

		public int runs() {
			return this.runs.get();
		}

	}

}
