package io.github.idempotency.method;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.autoconfigure.IdempotencyAutoConfiguration;
import io.github.idempotency.interceptor.IdempotencyInterceptor;
import io.github.idempotency.test.BootLine;
import io.github.idempotency.test.ThreadTransactionManager;
import org.junit.jupiter.api.Test;

import org.springframework.aop.Advisor;
import org.springframework.aop.framework.Advised;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.interceptor.TransactionInterceptor;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

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
		this.runner.run((context) -> {
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

	@Configuration(proxyBeanMethods = false)
	@EnableTransactionManagement(order = Ordered.HIGHEST_PRECEDENCE)
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

		public void failNextCommit() {
			this.failNextCommit = true;
		}

		public int runs() {
			return this.runs.get();
		}

	}

}
