package io.github.idempotency.interceptor;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

import org.springframework.util.ClassUtils;

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
	 * interfaces alone, as a mapper or a client framework makes them), the first of its
	 * interfaces that has the method. A JDK proxy's class is named anew in each JVM, and
	 * its methods keep no parameter names.
	 * @param method the method called
	 * @param targetClass the class of the bean
	 * @return the class the method belongs to
	 */
	public static Class<?> ownerOf(Method method, Class<?> targetClass) {
		Class<?> userClass = ClassUtils.getUserClass(targetClass);
		if (!Proxy.isProxyClass(userClass)) {
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

}
