package io.github.idempotency.interceptor;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import org.springframework.aop.framework.autoproxy.AutoProxyUtils;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.MergedBeanDefinitionPostProcessor;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.core.annotation.MergedAnnotations.SearchStrategy;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;
import org.springframework.util.function.SingletonSupplier;

/**
 * Has a controller with idempotent methods proxied as a subclass of its class, in an
 * application that asks for interface-based proxies
 * ({@code spring.aop.proxy-target-class=false}) too.
 *
 * <p>
 * Spring MVC finds handlers on beans whose type carries {@code @Controller}. A controller
 * that implements an interface (one an OpenAPI generator wrote, say) would get an
 * interface-based proxy there, whose type carries the annotation only if an interface
 * does: once one of its methods became idempotent, and so advised, none of its handlers
 * would be mapped. Spring's own advice is class-based proxies for controllers; this
 * post-processor marks the bean definitions of such controllers so that the auto-proxy
 * creator makes one, whatever it does for other beans. Left as they are: a controller
 * whose interface carries {@code @Controller} (mapped through such a proxy, and maybe
 * written for one: final, or with final methods), unless it is lazy or created after
 * Spring MVC's handler mapping, or had the mapping made while its dependencies were
 * injected (then mapped by its class, as it did not exist yet), one whose definition
 * already says how to proxy it, and one that asks for a kind of proxy with Spring
 * Framework 7's {@code @Proxyable} (on its class or its {@code @Bean} method). Where such
 * a proxy hides a handler's idempotency (declared on the class, not the interface),
 * startup fails naming the handler.
 *
 * @since 0.1.0
 */
public class ControllerProxyPostProcessor implements MergedBeanDefinitionPostProcessor, BeanFactoryAware {

	private static final String CONTROLLER = "org.springframework.stereotype.Controller";

	private static final String HANDLER_MAPPING = "org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping";

	// Spring Framework 7's way to ask for a kind of proxy, which is left to decide.
	private static final String PROXYABLE = "org.springframework.context.annotation.Proxyable";

	// What @Proxyable on a @Bean method sets on the definition (Spring Framework 7).
	private static final String EXPOSED_INTERFACES = AutoProxyUtils.class.getName() + ".exposedInterfaces";

	private final Supplier<IdempotentOperationSource> operations;

	private @Nullable ConfigurableListableBeanFactory beanFactory;

	private volatile boolean handlersMapped;

	/**
	 * @param operations tells which methods are idempotent, looked up once a controller
	 * is created
	 */
	public ControllerProxyPostProcessor(ObjectProvider<IdempotentOperationSource> operations) {
		this.operations = SingletonSupplier.of(operations::getObject);
	}

	@Override
	public void setBeanFactory(BeanFactory beanFactory) {
		if (beanFactory instanceof ConfigurableListableBeanFactory listable) {
			this.beanFactory = listable;
		}
	}

	@Override
	public void postProcessMergedBeanDefinition(RootBeanDefinition definition, Class<?> beanType, String beanName) {
		// The auto-proxy creator reads the attribute from the definition registered
		// under the bean's name, which no inner bean has.
		if (this.beanFactory == null || !this.beanFactory.containsBeanDefinition(beanName)) {
			return;
		}
		mark(this.beanFactory.getBeanDefinition(beanName), ClassUtils.getUserClass(beanType),
				() -> definition.isLazyInit() || handlersMappedAlready());
	}

	// Asked again once a singleton's dependencies are injected: one of its fields may
	// have had the handler mapping made, which mapped the controller before it existed.
	// Other beans are created after the mapping, at the earliest when their definition is
	// looked at.
	@Override
	public Object postProcessBeforeInitialization(Object bean, String beanName) {
		// A JDK proxy an earlier post-processor made is no class to subclass.
		if (this.beanFactory != null && this.beanFactory.containsBeanDefinition(beanName)
				&& !Proxy.isProxyClass(bean.getClass())) {
			BeanDefinition registered = this.beanFactory.getBeanDefinition(beanName);
			if (registered.isSingleton()) {
				mark(registered, ClassUtils.getUserClass(bean), this::handlersMappedAlready);
			}
		}
		return bean;
	}

	private void mark(BeanDefinition registered, Class<?> userClass, BooleanSupplier createdAfterMapping) {
		if (!registered.hasAttribute(AutoProxyUtils.PRESERVE_TARGET_CLASS_ATTRIBUTE)
				&& !registered.hasAttribute(EXPOSED_INTERFACES) && isMappedByItsClass(userClass, createdAfterMapping)
				&& !MergedAnnotations.from(userClass, SearchStrategy.TYPE_HIERARCHY).isPresent(PROXYABLE)
				&& isAdvised(userClass)) {
			registered.setAttribute(AutoProxyUtils.PRESERVE_TARGET_CLASS_ATTRIBUTE, Boolean.TRUE);
		}
	}

	// A controller by an interface's annotation is found through an interface-based
	// proxy too, and may be written for one (final, or with final methods). Not when
	// Spring MVC maps its handlers before it exists (it is lazy, or created after the
	// handler mapping): they are then taken from the class, and would fail to be called
	// on such a proxy.
	private static boolean isMappedByItsClass(Class<?> userClass, BooleanSupplier createdAfterMapping) {
		if (!MergedAnnotations.from(userClass, SearchStrategy.TYPE_HIERARCHY).isPresent(CONTROLLER)) {
			return false;
		}
		if (MergedAnnotations.from(userClass, SearchStrategy.SUPERCLASS).isPresent(CONTROLLER)) {
			boolean byInterface = ClassUtils.getAllInterfacesForClassAsSet(userClass)
				.stream()
				.anyMatch((type) -> MergedAnnotations.from(type, SearchStrategy.TYPE_HIERARCHY).isPresent(CONTROLLER));
			if (!byInterface) {
				return true;
			}
		}
		return createdAfterMapping.getAsBoolean();
	}

	// Spring MVC's mapping of @Controller handlers, created already (a bean of the
	// application's that needs it made it early). Once it is, it stays.
	private boolean handlersMappedAlready() {
		if (this.handlersMapped) {
			return true;
		}
		ConfigurableListableBeanFactory beanFactory = this.beanFactory;
		if (beanFactory == null || !ClassUtils.isPresent(HANDLER_MAPPING, beanFactory.getBeanClassLoader())) {
			return false;
		}
		Class<?> mapping = ClassUtils.resolveClassName(HANDLER_MAPPING, beanFactory.getBeanClassLoader());
		for (String name : beanFactory.getBeanNamesForType(mapping, false, false)) {
			if (beanFactory.containsSingleton(name)) {
				this.handlersMapped = true;
				return true;
			}
		}
		return false;
	}

	// Any idempotent method makes the controller proxied, a handler or not (a GraphQL
	// mutation, a listener), and every mapping of the class would be lost with it.
	private boolean isAdvised(Class<?> userClass) {
		IdempotentOperationSource source = this.operations.get();
		if (!source.isCandidateClass(userClass)) {
			return false;
		}
		for (Method method : ReflectionUtils.getUniqueDeclaredMethods(userClass,
				ReflectionUtils.USER_DECLARED_METHODS)) {
			if (source.getOperation(method, userClass) != null) {
				return true;
			}
		}
		return false;
	}

}
