package io.github.idempotency.autoconfigure;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.util.StringUtils;

/**
 * Matches when {@code idempotency.store} names a store, or names none: a blank value, as
 * {@code ${IDEMPOTENCY_STORE:}} gives when the variable is not set, counts as unset.
 */
abstract class StoreCondition extends SpringBootCondition {

	private final String store;

	StoreCondition(String store) {
		this.store = store;
	}

	@Override
	public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
		String chosen = context.getEnvironment().getProperty("idempotency.store");
		if (!StringUtils.hasText(chosen)) {
			return ConditionOutcome.match("idempotency.store is not set");
		}
		return chosen.trim().equalsIgnoreCase(this.store) ? ConditionOutcome.match("idempotency.store is " + this.store)
				: ConditionOutcome.noMatch("idempotency.store is " + chosen.trim());
	}

	static class Redis extends StoreCondition {

		Redis() {
			super("redis");
		}

	}

	static class Jdbc extends StoreCondition {

		Jdbc() {
			super("jdbc");
		}

	}

}
