package io.github.idempotency.autoconfigure;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.util.ClassUtils;
import org.springframework.util.StringUtils;

/**
 * The beans a shared store could be built on, looked at when no store was built on them:
 * several of one kind, none of them primary, means a shared store was meant, and which
 * one is not for the starter to guess.
 */
final class StoreCandidates {

	static final String REDIS = "org.springframework.data.redis.connection.RedisConnectionFactory";

	static final String DATA_SOURCE = "javax.sql.DataSource";

	static final String JDBC_TEMPLATE = "org.springframework.jdbc.core.JdbcTemplate";

	private StoreCandidates() {
	}

	/**
	 * Fails when the application has several beans of {@code beanType} and none is
	 * primary, saying what would have happened otherwise.
	 */
	static void failIfSeveral(ListableBeanFactory beanFactory, String beanType, String storeNeeds, String otherwise) {
		String several = several(beanFactory, beanType, storeNeeds);
		if (several != null) {
			throw new IllegalStateException(StringUtils.capitalize(several) + ", so " + otherwise
					+ ". Mark the one to keep them in"
					+ " @Primary, define an IdempotencyStore bean, or set idempotency.store to the store meant.");
		}
	}

	/**
	 * Says that the application has several beans of {@code beanType}, none of them
	 * primary, or returns {@code null}. Looked for only where the store that would use
	 * them could have been made: with {@code storeNeeds} on the class path too.
	 */
	static @Nullable String several(ListableBeanFactory beanFactory, String beanType, String storeNeeds) {
		ClassLoader classLoader = StoreCandidates.class.getClassLoader();
		if (!ClassUtils.isPresent(beanType, classLoader) || !ClassUtils.isPresent(storeNeeds, classLoader)) {
			return null;
		}
		String[] names = beanFactory.getBeanNamesForType(ClassUtils.resolveClassName(beanType, classLoader), true,
				false);
		if (names.length < 2) {
			return null;
		}
		return "the application has " + names.length + " " + ClassUtils.getShortName(beanType) + " beans ("
				+ String.join(", ", names) + ") and none is @Primary";
	}

}
