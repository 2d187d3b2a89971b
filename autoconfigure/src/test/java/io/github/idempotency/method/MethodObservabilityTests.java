package io.github.idempotency.method;

import java.util.Map;
import java.util.Set;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.actuate.IdempotencyEndpoint;
import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.autoconfigure.IdempotencyAutoConfiguration;
import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.observation.MeterRegistryOutcomeListener;
import io.github.idempotency.test.BootLine;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.Show;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Method calls are counted by the same meter as requests, tagged with the class and
 * method, and their records are read by the Actuator endpoint like any other.
 */
class MethodObservabilityTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(IdempotencyAutoConfiguration.class, AopAutoConfiguration.class,
				BootLine.jacksonAutoConfiguration()))
		.withBean(SimpleMeterRegistry.class)
		.withBean(Tickets.class);

	@Test
	void methodCallsShouldBeCountedByClassAndMethodAndTheirRecordsReadable() {
		this.runner.run((context) -> {
			Tickets tickets = context.getBean(Tickets.class);
			tickets.issue("t-1");
			tickets.issue("t-1");
			MeterRegistry registry = context.getBean(MeterRegistry.class);
			assertThat(registry.get(MeterRegistryOutcomeListener.METER_NAME)
				.tag("operation", "Tickets#issue")
				.tag("outcome", "replayed")
				.counter()
				.count()).isEqualTo(1);
			String recordKey = Hashing.recordKey(Tickets.class.getName() + "#issue(java.lang.String)", "t-1");
			Map<String, Object> record = new IdempotencyEndpoint(context.getBean(IdempotencyStore.class), Show.NEVER,
					Set.of())
				.record(recordKey, null, SecurityContext.NONE);
			assertThat(record).containsEntry("state", "completed");
		});
	}

	public static class Tickets {

		@Idempotent(key = "#p0")
		public String issue(String reference) {
			return "ticket " + reference;
		}

	}

}
