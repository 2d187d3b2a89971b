package io.github.idempotency.web;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;

import io.github.idempotency.interceptor.IdempotencyAdvisor;
import io.github.idempotency.interceptor.IdempotentOperation;
import io.github.idempotency.interceptor.IdempotentOperationSource;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.framework.AopProxyUtils;
import org.springframework.aop.scope.ScopedObject;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.KotlinDetector;
import org.springframework.core.ReactiveAdapter;
import org.springframework.core.ReactiveAdapterRegistry;
import org.springframework.core.ResolvableType;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.http.HttpEntity;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.util.ClassUtils;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.context.request.async.WebAsyncTask;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyEmitter;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;

/**
 * Makes sure that no {@code @Idempotent} handler can run unprotected. The key is claimed
 * by advice around the handler method; a bean that was not proxied
 * ({@code spring.aop.auto} is {@code false}, or its class is not proxyable), a method a
 * proxy cannot intercept (final or private), or an interface-based proxy whose type hides
 * the annotation its class declares would run every request as if the annotation were not
 * there. Also refuses handlers whose responses cannot be replayed: a
 * {@link ResponseBodyEmitter} (and so {@code SseEmitter}) streams events for as long as
 * it lives, and so does a reactive stream ({@code Flux}) that Spring MVC answers as one:
 * of {@code ServerSentEvent}s or of text, or from a handler that produces
 * {@code text/event-stream} or a JSON stream.
 *
 * <p>
 * Every handler of every {@link RequestMappingHandlerMapping} is checked once the
 * singletons exist, and startup fails naming the first offending method. A handler of a
 * lazy bean is checked the first time a request reaches it, and refused with a 503
 * problem if it would run unprotected. Thread-safe.
 *
 * @since 0.1.0
 */
public class IdempotentHandlerVerifier implements SmartInitializingSingleton {

	// The values Spring MVC answers asynchronously, besides reactive types. Future stands
	// for Spring 6's ListenableFuture.
	private static final List<Class<?>> ASYNC_VALUES = List.of(Callable.class, WebAsyncTask.class, DeferredResult.class,
			CompletionStage.class, Future.class, StreamingResponseBody.class, ResponseBodyEmitter.class);

	// The types Spring MVC streams a reactive stream's elements as, when a handler
	// produces one of them.
	private static final List<MediaType> STREAMED_TYPES = List.of(MediaType.TEXT_EVENT_STREAM,
			MediaType.APPLICATION_NDJSON, MediaType.parseMediaType("application/stream+json"));

	private final ConfigurableListableBeanFactory beanFactory;

	private final IdempotentOperationSource operations;

	private final Map<Method, Verdict> verdicts = new ConcurrentHashMap<>();

	private volatile int operationCount;

	/**
	 * @param beanFactory where the handler mappings and handler beans are
	 * @param operations tells which handlers are idempotent
	 */
	public IdempotentHandlerVerifier(ConfigurableListableBeanFactory beanFactory,
			IdempotentOperationSource operations) {
		this.beanFactory = beanFactory;
		this.operations = operations;
	}

	@Override
	public void afterSingletonsInstantiated() {
		int count = 0;
		for (RequestMappingHandlerMapping mapping : this.beanFactory
			.getBeansOfType(RequestMappingHandlerMapping.class, false, false)
			.values()) {
			for (HandlerMethod handler : mapping.getHandlerMethods().values()) {
				Object bean = handler.getBean();
				if (bean instanceof String name) {
					if (isLazy(name)) {
						continue;
					}
					bean = this.beanFactory.getBean(name);
				}
				// A scoped proxy's target exists only in its scope: checked on its
				// first request.
				if (bean instanceof ScopedObject) {
					continue;
				}
				String problem = problem(handler, bean);
				if (problem != null) {
					throw new IllegalStateException(problem);
				}
			}
			count += (int) mapping.getHandlerMethods()
				.values()
				.stream()
				.filter((handler) -> this.operations.getOperation(handler.getMethod(), handler.getBeanType()) != null)
				.count();
		}
		this.operationCount = count;
	}

	/**
	 * How many handler methods are idempotent operations, once the singletons exist.
	 * @return the count
	 */
	public int operationCount() {
		return this.operationCount;
	}

	/**
	 * Why an idempotent handler cannot be run safely, or {@code null} if it can. Cached
	 * per method, and found again when the bean type changes: controllers that inherit a
	 * method may differ in their annotations and in the types it returns.
	 * @param handler the handler, with its bean resolved
	 * @param bean the handler's bean
	 * @return the reason, naming the method, or {@code null}
	 */
	@Nullable String problem(HandlerMethod handler, Object bean) {
		Class<?> beanType = handler.getBeanType();
		Verdict verdict = this.verdicts.get(handler.getMethod());
		if (verdict == null || verdict.beanType() != beanType) {
			verdict = new Verdict(beanType,
					findProblem(handler, (bean instanceof ScopedObject scoped) ? scoped.getTargetObject() : bean));
			this.verdicts.put(handler.getMethod(), verdict);
		}
		return verdict.problem();
	}

	private @Nullable String findProblem(HandlerMethod handler, Object bean) {
		Method method = handler.getMethod();
		IdempotentOperation operation = this.operations.getOperation(method, handler.getBeanType());
		if (operation == null) {
			// Mapped through an interface-based proxy (its interface carries
			// @Controller), whose type hides what the class behind it declares, behind a
			// second auto-proxy creator's proxy too.
			Class<?> targetClass = AopProxyUtils.ultimateTargetClass(bean);
			if (AopUtils.isJdkDynamicProxy(bean) && this.operations.getOperation(method, targetClass) != null) {
				return ClassUtils.getQualifiedMethodName(method, targetClass) + " is @Idempotent"
						+ " but its bean is an interface-based proxy, whose type does not show that, so every request"
						+ " would run unprotected. Annotate the interface's method instead, or have the bean proxied"
						+ " by its class (spring.aop.proxy-target-class=true).";
			}
			return null;
		}
		String name = ClassUtils.getQualifiedMethodName(method, handler.getBeanType());
		if (ResponseBodyEmitter.class.isAssignableFrom(returnedType(handler))) {
			return name + " is @Idempotent but returns a " + returnedType(handler).getSimpleName()
					+ ", a stream of events that a replay cannot repeat; remove @Idempotent, or return the result as"
					+ " one response";
		}
		String stream = streamOfEvents(handler);
		if (stream != null) {
			return name + " is @Idempotent but returns " + stream + ", which Spring MVC streams for as long as it"
					+ " lasts and a replay cannot repeat; remove @Idempotent, or return the result as one response";
		}
		if (!IdempotencyAdvisor.isOn(bean, false)) {
			return name + " is @Idempotent but its bean is not proxied with the idempotency advice, so every"
					+ " request would run unprotected. Check that an auto-proxy creator is active (spring.aop.auto is"
					+ " not false) and that the bean's class can be proxied.";
		}
		if (AopUtils.isCglibProxy(bean)
				&& (Modifier.isFinal(method.getModifiers()) || Modifier.isPrivate(method.getModifiers()))) {
			return name + " is @Idempotent but is " + (Modifier.isFinal(method.getModifiers()) ? "final" : "private")
					+ ", so its proxy cannot intercept it and every request would run unprotected; make it"
					+ " overridable";
		}
		return null;
	}

	// What a handler returns, if it is a reactive stream that Spring MVC answers as a
	// stream rather than as one collected body.
	private static @Nullable String streamOfEvents(HandlerMethod handler) {
		ResolvableType returned = ResolvableType.forMethodParameter(handler.getReturnType());
		if (ResponseEntity.class.isAssignableFrom(returned.toClass())) {
			returned = returned.getGeneric(0);
		}
		ReactiveAdapter adapter = ReactiveAdapterRegistry.getSharedInstance().getAdapter(returned.toClass());
		if (adapter == null || !adapter.isMultiValue()) {
			return null;
		}
		Class<?> element = returned.getGeneric(0).resolve(Object.class);
		String type = returned.toClass().getSimpleName();
		if (ServerSentEvent.class.isAssignableFrom(element) || CharSequence.class.isAssignableFrom(element)) {
			return "a " + type + " of " + element.getSimpleName();
		}
		for (String produced : producedTypes(handler)) {
			MediaType produces = MediaType.parseMediaType(produced);
			for (MediaType streamed : STREAMED_TYPES) {
				if (streamed.includes(produces)) {
					return "a " + type + " it produces as " + streamed;
				}
			}
		}
		return null;
	}

	// The method's own, or else its class's, as Spring MVC combines them.
	private static String[] producedTypes(HandlerMethod handler) {
		RequestMapping mapping = handler.getMethodAnnotation(RequestMapping.class);
		if (mapping != null && mapping.produces().length > 0) {
			return mapping.produces();
		}
		RequestMapping onClass = AnnotatedElementUtils.findMergedAnnotation(handler.getBeanType(),
				RequestMapping.class);
		return (onClass != null) ? onClass.produces() : new String[0];
	}

	/**
	 * What a handler returns, looking into a {@code ResponseEntity} for its body's type.
	 */
	static Class<?> returnedType(HandlerMethod handler) {
		Class<?> type = handler.getReturnType().getParameterType();
		if (ResponseEntity.class.isAssignableFrom(type)) {
			return ResolvableType.forMethodParameter(handler.getReturnType()).getGeneric(0).resolve(Object.class);
		}
		return type;
	}

	/**
	 * Whether Spring MVC may answer for the handler asynchronously. It decides from the
	 * class of the value returned, so a declared type that could hold such a value
	 * ({@code Object}, say) counts; for a {@code ResponseEntity} or {@code HttpEntity} it
	 * decides from the declared body type, as here. A Kotlin {@code suspend} function
	 * always answers asynchronously. Return value handlers an application adds are not
	 * known.
	 */
	static boolean mayAnswerAsynchronously(HandlerMethod handler) {
		if (KotlinDetector.isSuspendingFunction(handler.getMethod())) {
			return true;
		}
		Class<?> declared = handler.getReturnType().getParameterType();
		for (Class<?> async : ASYNC_VALUES) {
			if (async.isAssignableFrom(declared) || declared.isAssignableFrom(async)) {
				return true;
			}
		}
		if (ReactiveAdapterRegistry.getSharedInstance().getAdapter(declared) != null) {
			return true;
		}
		Class<?> body = HttpEntity.class.isAssignableFrom(declared)
				? ResolvableType.forMethodParameter(handler.getReturnType())
					.as(HttpEntity.class)
					.getGeneric(0)
					.resolve()
				: null;
		return body != null && (StreamingResponseBody.class.isAssignableFrom(body)
				|| ResponseBodyEmitter.class.isAssignableFrom(body)
				|| ReactiveAdapterRegistry.getSharedInstance().getAdapter(body) != null);
	}

	private boolean isLazy(String beanName) {
		if (!this.beanFactory.containsBeanDefinition(beanName)) {
			return false;
		}
		BeanDefinition definition = this.beanFactory.getBeanDefinition(beanName);
		return definition.isLazyInit();
	}

	private record Verdict(Class<?> beanType, @Nullable String problem) {
	}

}
