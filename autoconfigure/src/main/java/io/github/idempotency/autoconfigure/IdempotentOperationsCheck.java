package io.github.idempotency.autoconfigure;

import java.lang.reflect.Method;
import java.util.Set;
import java.util.TreeSet;

import io.github.idempotency.annotation.AnnotationIdempotentOperationSource;
import io.github.idempotency.interceptor.IdempotencyAdvisor;
import io.github.idempotency.interceptor.IdempotentMethodInvoker;
import io.github.idempotency.interceptor.IdempotentOperation;
import io.github.idempotency.interceptor.IdempotentOperationSource;

import org.jspecify.annotations.Nullable;

import org.springframework.aop.scope.ScopedObject;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.core.annotation.MergedAnnotations.SearchStrategy;
import org.springframework.stereotype.Controller;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;

/**
 * Fails startup, once every singleton is proxied, for idempotent operations the
 * application cannot run: methods outside web handlers when there is no JSON mapper to
 * keep their values, or whose bean was not proxied with the idempotency advice (created
 * before the auto-proxy creator, or with none active), so that every call would run
 * unprotected; and, in a reactive web application, WebFlux handlers, whose requests
 * nothing prepares. Handlers are found from the controllers' bean definitions, so lazy
 * controllers count too; methods from the singletons created by then, so lazy beans do
 * not.
 */
class IdempotentOperationsCheck implements SmartInitializingSingleton {

	private static final @Nullable Method MOCKING_DETAILS = mockitoMethod("org.mockito.Mockito", "mockingDetails",
			Object.class);

	private static final @Nullable Method IS_MOCK = mockitoMethod("org.mockito.MockingDetails", "isMock");

	private final IdempotentOperationSource operations;

	private final ObjectProvider<IdempotentMethodInvoker> invoker;

	private final ListableBeanFactory beanFactory;

	private final boolean reactiveWeb;

	IdempotentOperationsCheck(IdempotentOperationSource operations, ObjectProvider<IdempotentMethodInvoker> invoker,
			ListableBeanFactory beanFactory, boolean reactiveWeb) {
		this.operations = operations;
		this.invoker = invoker;
		this.beanFactory = beanFactory;
		this.reactiveWeb = reactiveWeb;
	}

	@Override
	public void afterSingletonsInstantiated() {
		if (this.operations instanceof AnnotationIdempotentOperationSource annotations
				&& annotations.methodOperationCount() > 0 && this.invoker.getIfAvailable() == null) {
			throw new IllegalStateException("@Idempotent methods outside web handlers keep their return values as"
					+ " JSON, and this application has no JSON mapper: add spring-boot-starter-json"
					+ " (spring-boot-starter-jackson on Spring Boot 4)");
		}
		Set<String> unproxied = unproxiedMethods();
		if (!unproxied.isEmpty()) {
			throw new IllegalStateException("@Idempotent on " + String.join(", ", unproxied) + ", whose bean is not"
					+ " proxied with the idempotency advice, so every call would run unprotected. Check that an"
					+ " auto-proxy creator is active (spring.aop.auto=false leaves only a transaction manager's), and"
					+ " that the bean is not created before it, as a dependency of a BeanPostProcessor is (Spring logs"
					+ " such a bean as \"not eligible for getting processed by all BeanPostProcessors\")");
		}
		if (this.reactiveWeb) {
			Set<String> handlers = idempotentHandlers();
			if (!handlers.isEmpty()) {
				throw new IllegalStateException("@Idempotent on " + String.join(", ", handlers) + ", handled by"
						+ " WebFlux: this version protects Spring MVC handlers only, so every request to them, and"
						+ " every retry, would run. Run the application on Spring MVC, or remove @Idempotent from"
						+ " these handlers");
			}
		}
	}

	// Handlers are the web path's to check, when their requests come. A scoped proxy's
	// target is proxied when it is created.
	private Set<String> unproxiedMethods() {
		Set<String> unproxied = new TreeSet<>();
		if (!(this.beanFactory instanceof ConfigurableListableBeanFactory factory)) {
			return unproxied;
		}
		for (String name : factory.getSingletonNames()) {
			Object bean = factory.getSingleton(name);
			if (bean == null || bean instanceof ScopedObject || IdempotencyAdvisor.isOn(bean, true) || isMock(bean)) {
				continue;
			}
			Class<?> userClass = ClassUtils.getUserClass(AopUtils.getTargetClass(bean));
			ReflectionUtils.doWithMethods(userClass, (method) -> {
				IdempotentOperation operation = this.operations.getOperation(method, userClass);
				if (operation != null && !operation.handler()) {
					unproxied.add(operation.name());
				}
			}, ReflectionUtils.USER_DECLARED_METHODS);
		}
		return unproxied;
	}

	// A test's mock or spy of an idempotent bean (@MockitoBean, @MockBean) is registered
	// as it is, never proxied, and never runs the methods it stands in for.
	private static boolean isMock(Object bean) {
		if (MOCKING_DETAILS == null || IS_MOCK == null) {
			return false;
		}
		try {
			return (boolean) IS_MOCK.invoke(MOCKING_DETAILS.invoke(null, bean));
		}
		catch (ReflectiveOperationException | RuntimeException ex) {
			return false;
		}
	}

	private static @Nullable Method mockitoMethod(String type, String name, Class<?>... parameters) {
		try {
			return ClassUtils.forName(type, IdempotentOperationsCheck.class.getClassLoader())
				.getMethod(name, parameters);
		}
		catch (ClassNotFoundException | LinkageError | NoSuchMethodException ex) {
			return null;
		}
	}

	private Set<String> idempotentHandlers() {
		Set<String> handlers = new TreeSet<>();
		for (String name : this.beanFactory.getBeanDefinitionNames()) {
			Class<?> type = this.beanFactory.getType(name, false);
			if (type == null
					|| !MergedAnnotations.from(type, SearchStrategy.TYPE_HIERARCHY).isPresent(Controller.class)) {
				continue;
			}
			Class<?> userClass = ClassUtils.getUserClass(type);
			ReflectionUtils.doWithMethods(userClass, (method) -> {
				IdempotentOperation operation = this.operations.getOperation(method, userClass);
				if (operation != null && operation.handler()) {
					handlers.add(operation.name());
				}
			}, ReflectionUtils.USER_DECLARED_METHODS);
		}
		return handlers;
	}

}
