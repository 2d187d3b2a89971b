package io.github.idempotency.autoconfigure;

import java.util.List;

import io.github.idempotency.annotation.AnnotationIdempotentOperationSource;
import io.github.idempotency.interceptor.IdempotentMethodInvoker;
import io.github.idempotency.interceptor.IdempotentOperationSource;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;

/**
 * Fails startup, once every singleton is proxied, for idempotent operations the
 * application cannot run: methods outside web handlers when there is no JSON mapper to
 * keep their values, and, in a reactive web application, WebFlux handlers, whose requests
 * nothing prepares, so that each request and each retry would run unprotected.
 */
class IdempotentOperationsCheck implements SmartInitializingSingleton {

	private final IdempotentOperationSource operations;

	private final ObjectProvider<IdempotentMethodInvoker> invoker;

	private final boolean reactiveWeb;

	IdempotentOperationsCheck(IdempotentOperationSource operations, ObjectProvider<IdempotentMethodInvoker> invoker,
			boolean reactiveWeb) {
		this.operations = operations;
		this.invoker = invoker;
		this.reactiveWeb = reactiveWeb;
	}

	@Override
	public void afterSingletonsInstantiated() {
		if (!(this.operations instanceof AnnotationIdempotentOperationSource annotations)) {
			return;
		}
		if (annotations.methodOperationCount() > 0 && this.invoker.getIfAvailable() == null) {
			throw new IllegalStateException("@Idempotent methods outside web handlers keep their return values as"
					+ " JSON, and this application has no JSON mapper: add spring-boot-starter-json");
		}
		List<String> handlers = annotations.handlerOperationNames();
		if (this.reactiveWeb && !handlers.isEmpty()) {
			throw new IllegalStateException("@Idempotent on " + String.join(", ", handlers) + ", handled by WebFlux:"
					+ " this version protects Spring MVC handlers only, so every request to them, and every retry,"
					+ " would run. Run the application on Spring MVC, or remove @Idempotent from these handlers");
		}
	}

}
