package io.github.idempotency.interceptor;

import java.lang.reflect.Method;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import org.springframework.aop.framework.autoproxy.AutoProxyUtils;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.MergedBeanDefinitionPostProcessor;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.core.annotation.MergedAnnotations.SearchStrategy;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;
import org.springframework.util.function.SingletonSupplier;

/**
 * Has a controller with idempotent handlers proxied as a subclass of its class, in an
 * application that asks for interface-based proxies
 * ({@code spring.aop.proxy-target-class=false}) too.
 *
 * <p>
 * Spring MVC finds handlers on beans whose type carries {@code @Controller}. A controller
 * that implements an interface (one an OpenAPI generator wrote, say) would get an
 * interface-based proxy there, whose type carries nothing: once one of its handlers
 * became idempotent, and so advised, all of them would go unmapped and be answered 404.
 * Spring's own advice is class-based proxies for controllers; this post-processor marks
 * the bean definitions of such controllers so that the auto-proxy creator makes one,
 * whatever it does for other beans.
 *
 * @since 0.1.0
 */
public class ControllerProxyPostProcessor implements MergedBeanDefinitionPostProcessor, BeanFactoryAware {

	private static final String CONTROLLER = "org.springframework.stereotype.Controller";

	private final Supplier<IdempotentOperationSource> operations;

	private @Nullable ConfigurableListableBeanFactory beanFactory;

	/**
	 * @param operations tells which methods are idempotent handlers, looked up once a
	 * controller is created
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
		Class<?> userClass = ClassUtils.getUserClass(beanType);
		if (MergedAnnotations.from(userClass, SearchStrategy.TYPE_HIERARCHY).isPresent(CONTROLLER)
				&& hasIdempotentHandler(userClass)) {
			this.beanFactory.getBeanDefinition(beanName)
				.setAttribute(AutoProxyUtils.PRESERVE_TARGET_CLASS_ATTRIBUTE, Boolean.TRUE);
		}
	}

	private boolean hasIdempotentHandler(Class<?> userClass) {
		IdempotentOperationSource source = this.operations.get();
		if (!source.isCandidateClass(userClass)) {
			return false;
		}
		for (Method method : ReflectionUtils.getUniqueDeclaredMethods(userClass,
				ReflectionUtils.USER_DECLARED_METHODS)) {
			IdempotentOperation operation = source.getOperation(method, userClass);
			if (operation != null && operation.handler()) {
				return true;
			}
		}
		return false;
	}

}
