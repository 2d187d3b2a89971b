package io.github.idempotency.interceptor;

import java.lang.reflect.Method;
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
 * Spring MVC finds handlers on beans whose type carries {@code @Controller}, and the
 * starter finds which of them are idempotent on the same type. A controller that
 * implements an interface (one an OpenAPI generator wrote, say) would get an
 * interface-based proxy there, whose type is neither: once one of its methods became
 * idempotent, and so advised, none of its handlers would be mapped; or, where the
 * interface itself carries {@code @Controller}, they would be mapped and their
 * {@code @Idempotent} unseen, run every time. Spring's own advice is class-based proxies
 * for controllers; this post-processor marks the bean definitions of such controllers so
 * that the auto-proxy creator makes one, whatever it does for other beans (Spring
 * Framework 7's {@code @Proxyable} included). A definition that already says how to proxy
 * its bean is left as it is.
 *
 * @since 0.1.0
 */
public class ControllerProxyPostProcessor implements MergedBeanDefinitionPostProcessor, BeanFactoryAware {

	private static final String CONTROLLER = "org.springframework.stereotype.Controller";

	private final Supplier<IdempotentOperationSource> operations;

	private @Nullable ConfigurableListableBeanFactory beanFactory;

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
		BeanDefinition registered = this.beanFactory.getBeanDefinition(beanName);
		Class<?> userClass = ClassUtils.getUserClass(beanType);
		if (!registered.hasAttribute(AutoProxyUtils.PRESERVE_TARGET_CLASS_ATTRIBUTE)
				&& MergedAnnotations.from(userClass, SearchStrategy.TYPE_HIERARCHY).isPresent(CONTROLLER)
				&& isAdvised(userClass)) {
			registered.setAttribute(AutoProxyUtils.PRESERVE_TARGET_CLASS_ATTRIBUTE, Boolean.TRUE);
		}
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
