package io.github.idempotency.autoconfigure;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.convert.ConversionException;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Matches unless a switch is {@code false}. The switch is read as it binds ({@code on},
 * {@code yes} and {@code 1} count as {@code true}, their opposites as {@code false}), and
 * a value that does not bind, a blank one included, fails startup: matching on the text
 * {@code true} alone would turn everything off, unseen, for {@code 1}, a typo, or an
 * unset variable.
 */
abstract class EnabledCondition extends SpringBootCondition {

	private final String property;

	EnabledCondition(String property) {
		this.property = property;
	}

	@Override
	public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
		Environment environment = context.getEnvironment();
		if (!environment.containsProperty(this.property)) {
			return ConditionOutcome.match(this.property + " is not set");
		}
		Boolean enabled;
		try {
			enabled = environment.getProperty(this.property, Boolean.class);
		}
		catch (ConversionException ex) {
			throw notABoolean(environment, ex);
		}
		if (enabled == null) {
			throw notABoolean(environment, null);
		}
		return enabled ? ConditionOutcome.match(this.property + " is true")
				: ConditionOutcome.noMatch(this.property + " is false");
	}

	// Reported by Spring Boot's failure analysis as any invalid property is.
	private InvalidConfigurationPropertyValueException notABoolean(Environment environment, @Nullable Exception cause) {
		InvalidConfigurationPropertyValueException invalid = new InvalidConfigurationPropertyValueException(
				this.property, environment.getProperty(this.property), "it must be true or false");
		if (cause != null) {
			invalid.initCause(cause);
		}
		return invalid;
	}

	static class Idempotency extends EnabledCondition {

		Idempotency() {
			super("idempotency.enabled");
		}

	}

	static class JdbcPurge extends EnabledCondition {

		JdbcPurge() {
			super("idempotency.jdbc.purge.enabled");
		}

	}

}
