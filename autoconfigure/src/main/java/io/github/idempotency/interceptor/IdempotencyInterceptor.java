package io.github.idempotency.interceptor;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.function.Supplier;

import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.util.function.SingletonSupplier;

/**
 * Runs around idempotent methods. A web handler's call is driven by the request it
 * handles, which a transport prepared (found through the {@link IdempotentCallSource}s)
 * and which claims the key once the handler's arguments are bound and validated; called
 * any other way, a handler simply runs. Any other method goes the method path, through
 * the {@link IdempotentMethodInvoker}. Thread-safe.
 *
 * @since 0.1.0
 */
public class IdempotencyInterceptor implements MethodInterceptor {

	private final IdempotentOperationSource operations;

	private final Supplier<List<IdempotentCallSource>> callSources;

	private final Supplier<IdempotentMethodInvoker> methods;

	/**
	 * Looks its collaborators up on first use, so that it can be created with the
	 * infrastructure that proxies beans, before them.
	 * @param operations tells how each method is idempotent
	 * @param callSources find calls transports prepared
	 * @param methods runs the method path
	 */
	public IdempotencyInterceptor(IdempotentOperationSource operations,
			ObjectProvider<IdempotentCallSource> callSources, ObjectProvider<IdempotentMethodInvoker> methods) {
		this.operations = operations;
		this.callSources = SingletonSupplier.of(() -> callSources.orderedStream().toList());
		this.methods = SingletonSupplier.of(() -> {
			IdempotentMethodInvoker invoker = methods.getIfAvailable();
			if (invoker == null) {
				throw new IllegalStateException("@Idempotent methods outside web handlers keep their return values as"
						+ " JSON, and this application has no JSON mapper: add spring-boot-starter-json"
						+ " (spring-boot-starter-jackson on Spring Boot 4)");
			}
			return invoker;
		});
	}

	@Override
	public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
		Method method = invocation.getMethod();
		for (IdempotentCallSource source : this.callSources.get()) {
			IdempotentCall call = source.currentCall();
			if (call != null && call.beforeInvocation(invocation.getThis(), method, invocation.getArguments())) {
				Object result;
				try {
					result = invocation.proceed();
				}
				catch (Throwable ex) {
					call.afterThrowing(method, ex);
					throw ex;
				}
				call.afterInvocation(method, result);
				return result;
			}
		}
		Object target = invocation.getThis();
		Class<?> targetClass = (target != null) ? targetClass(target, method) : method.getDeclaringClass();
		IdempotentOperation operation = this.operations.getOperation(method, targetClass);
		if (operation == null || operation.handler()) {
			return invocation.proceed();
		}
		return this.methods.get().invoke(invocation, operation, targetClass);
	}

	// A bean that is itself a JDK proxy whose target class does not implement the method
	// called serves it otherwise: a Spring Data repository's target class, the same for
	// every repository, does not implement the repository's own methods (queries, default
	// methods, fragments). Those belong to the proxy's interfaces.
	private static Class<?> targetClass(Object target, Method method) {
		Class<?> targetClass = AopUtils.getTargetClass(target);
		return (Proxy.isProxyClass(target.getClass()) && !method.getDeclaringClass().isAssignableFrom(targetClass))
				? target.getClass() : targetClass;
	}

}
