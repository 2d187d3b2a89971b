package io.github.idempotency.interceptor;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

import org.springframework.aop.support.AopUtils;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;

/**
 * Which class an idempotent method belongs to, for its name, its scope and its parameter
 * names.
 *
 * @since 0.1.0
 */
public final class MethodOwners {

	private MethodOwners() {
	}

	/**
	 * The class a method called on a bean belongs to: the bean's own class, without the
	 * subclass a CGLIB proxy adds; for a bean that is a JDK proxy (one made from
	 * interfaces alone, as a mapper, a client framework or Spring Data makes them) or a
	 * lambda, the first of its interfaces that has the method. Such a class is named anew
	 * in each JVM, and its methods keep no parameter names.
	 * @param method the method called
	 * @param targetClass the class of the bean
	 * @return the class the method belongs to
	 */
	public static Class<?> ownerOf(Method method, Class<?> targetClass) {
		Class<?> userClass = ClassUtils.getUserClass(targetClass);
		if (!Proxy.isProxyClass(userClass) && !ClassUtils.isLambdaClass(userClass)) {
			return userClass;
		}
		// The method may be the interface's, or the proxy class's own that implements it.
		for (Class<?> type : userClass.getInterfaces()) {
			if (ClassUtils.hasMethod(type, method.getName(), method.getParameterTypes())) {
				return type;
			}
		}
		return userClass;
	}

	/**
	 * The method called as its owner declares it: for a bean made from a lambda, the
	 * interface's method rather than the one the lambda's class implements it with, which
	 * keeps no parameter names.
	 * @param method the method called
	 * @param owner the class the method belongs to, as {@link #ownerOf} finds it
	 * @return the method to read the annotation and parameter names from
	 */
	public static Method declaredMethod(Method method, Class<?> owner) {
		Method specific = AopUtils.getMostSpecificMethod(method, owner);
		if (owner.isInterface() && !specific.getDeclaringClass().isInterface()) {
			Method declared = ReflectionUtils.findMethod(owner, specific.getName(), specific.getParameterTypes());
			if (declared != null) {
				return declared;
			}
		}
		return specific;
	}

}
