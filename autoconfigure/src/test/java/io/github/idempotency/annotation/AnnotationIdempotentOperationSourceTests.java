package io.github.idempotency.annotation;

import java.lang.reflect.Method;
import java.time.Duration;

import io.github.idempotency.interceptor.IdempotentOperation;
import org.junit.jupiter.api.Test;

import org.springframework.util.ReflectionUtils;
import org.springframework.web.bind.annotation.ModelAttribute;
import org.springframework.web.bind.annotation.PostMapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

class AnnotationIdempotentOperationSourceTests {

	private final AnnotationIdempotentOperationSource source = new AnnotationIdempotentOperationSource();

	@Test
	void methodAnnotationShouldBeParsed() {
		IdempotentOperation operation = operation(Handlers.class, "configured");
		assertThat(operation.headerName()).isEqualTo("X-Request-Id");
		assertThat(operation.required()).isFalse();
		assertThat(operation.ttl()).isEqualTo(Duration.ofHours(1));
		assertThat(operation.lockTimeout()).isEqualTo(Duration.ofMinutes(2));
		assertThat(operation.name()).endsWith("Handlers.configured");
	}

	@Test
	void defaultsShouldBeLeftToConfiguration() {
		IdempotentOperation operation = operation(Handlers.class, "defaults");
		assertThat(operation.headerName()).isNull();
		assertThat(operation.keyExpression()).isNull();
		assertThat(operation.required()).isTrue();
		assertThat(operation.ttl()).isNull();
		assertThat(operation.lockTimeout()).isNull();
	}

	@Test
	void unannotatedMethodShouldHaveNoOperation() {
		assertThat(operation(Handlers.class, "plain")).isNull();
	}

	@Test
	void classAnnotationShouldCoverMethodsAndMethodAnnotationShouldWin() {
		assertThat(operation(ClassLevel.class, "inherited").ttl()).isEqualTo(Duration.ofMinutes(5));
		assertThat(operation(ClassLevel.class, "overridden").ttl()).isEqualTo(Duration.ofSeconds(10));
	}

	@Test
	void classAnnotationShouldNotCoverMethodsThatAreNotHandlers() {
		assertThat(operation(ClassLevel.class, "model")).isNull();
		assertThat(operation(ClassLevel.class, "helper")).isNull();
	}

	@Test
	void headerNameWithKeyExpressionShouldFailNamingMethod() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "both"))
			.withMessageContaining("Invalid.both")
			.withMessageContaining("both headerName and key");
	}

	@Test
	void unparsableKeyExpressionShouldFail() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "badExpression"))
			.withMessageContaining("does not parse");
	}

	@Test
	void nonPositiveDurationShouldFail() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "zeroTtl"))
			.withMessageContaining("must be positive");
	}

	private IdempotentOperation operation(Class<?> type, String name) {
		Method method = ReflectionUtils.findMethod(type, name);
		return this.source.getOperation(method, type);
	}

	static class Handlers {

		@Idempotent(headerName = "X-Request-Id", required = false, ttl = "1h", lockTimeout = "PT2M")
		void configured() {
		}

		@Idempotent
		void defaults() {
		}

		void plain() {
		}

	}

	@Idempotent(ttl = "5m")
	static class ClassLevel {

		@PostMapping
		void inherited() {
		}

		@PostMapping
		@Idempotent(ttl = "10s")
		void overridden() {
		}

		@ModelAttribute
		void model() {
		}

		void helper() {
		}

	}

	static class Invalid {

		@Idempotent(headerName = "X-Id", key = "#order.id")
		void both() {
		}

		@Idempotent(key = "#order.(")
		void badExpression() {
		}

		@Idempotent(ttl = "0s")
		void zeroTtl() {
		}

	}

}
