package io.github.idempotency.autoconfigure;

import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.BeanFactoryUtils;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.NoSuchBeanDefinitionException;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.AbstractBeanDefinition;
import org.springframework.util.ClassUtils;
import org.springframework.util.StringUtils;

/**
 * The beans a shared store could be built on, looked at when no store was built on them:
 * several of one kind, and not one of them primary, means a shared store was meant, and
 * which one is not for the starter to guess. Counted as Spring Boot counts the candidates
 * of a single bean: in this context and its ancestors, leaving out beans that are no
 * candidates for injection.
 */
final class StoreCandidates {

	static final String REDIS = "org.springframework.data.redis.connection.RedisConnectionFactory";

	static final String DATA_SOURCE = "javax.sql.DataSource";

	static final String JDBC_TEMPLATE = "org.springframework.jdbc.core.JdbcTemplate";

	private StoreCandidates() {
	}

	/**
	 * Fails when the application has several beans of {@code beanType} and not one of
	 * them primary, saying what would have happened otherwise and what to do.
	 */
	static void failIfSeveral(ListableBeanFactory beanFactory, String beanType, String storeNeeds, String otherwise,
			String remedy) {
		String several = several(beanFactory, beanType, storeNeeds);
		if (several != null) {
			throw new IllegalStateException(StringUtils.capitalize(several) + ", so " + otherwise + ". Mark the one"
					+ " to keep them in @Primary, define an IdempotencyStore bean, or " + remedy + ".");
		}
	}

	/**
	 * Says that the application has several beans of {@code beanType}, not one of them
	 * primary, or returns {@code null}. Looked for only where the store that would use
	 * them could have been made: with {@code storeNeeds} on the class path too.
	 */
	static @Nullable String several(ListableBeanFactory beanFactory, String beanType, String storeNeeds) {
		ClassLoader classLoader = StoreCandidates.class.getClassLoader();
		if (!ClassUtils.isPresent(beanType, classLoader) || !ClassUtils.isPresent(storeNeeds, classLoader)) {
			return null;
		}
		List<String> candidates = new ArrayList<>();
		int primary = 0;
		for (String name : BeanFactoryUtils.beanNamesForTypeIncludingAncestors(beanFactory,
				ClassUtils.resolveClassName(beanType, classLoader), true, false)) {
			BeanDefinition definition = definition(beanFactory, name);
			if (definition == null || isCandidate(name, definition)) {
				candidates.add(name);
				primary += (definition != null && definition.isPrimary()) ? 1 : 0;
			}
		}
		if (candidates.size() < 2 || primary == 1) {
			return null;
		}
		return "the application has " + candidates.size() + " " + ClassUtils.getShortName(beanType) + " beans ("
				+ String.join(", ", candidates) + ") and " + ((primary == 0) ? "none" : primary) + " of them @Primary";
	}

	private static boolean isCandidate(String name, BeanDefinition definition) {
		return definition.isAutowireCandidate() && !name.startsWith("scopedTarget.")
				&& (!(definition instanceof AbstractBeanDefinition bean) || bean.isDefaultCandidate());
	}

	// Spring reads the definition from the context that has it, this one or an ancestor;
	// a singleton registered without one has none.
	private static @Nullable BeanDefinition definition(ListableBeanFactory beanFactory, String name) {
		if (!(beanFactory instanceof ConfigurableListableBeanFactory configurable)) {
			return null;
		}
		try {
			return configurable.getMergedBeanDefinition(name);
		}
		catch (NoSuchBeanDefinitionException ex) {
			return null;
		}
	}

}
