package io.github.idempotency.method;

import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.annotation.Idempotent;

/**
 * Beans made from interfaces alone, as JDK proxies (a mapper or a client framework's
 * beans): the interface says what each method is.
 */
final class Gateways {

	private Gateways() {
	}

	/**
	 * What both gateways can send.
	 */
	interface Sender {

		@Idempotent(key = "#reference")
		String send(String reference, int amountCents);

	}

	interface CardGateway extends Sender {

	}

	interface BankGateway extends Sender {

	}

	/**
	 * Makes a gateway whose sends answer with its name and how often it has sent that
	 * reference.
	 */
	static <T extends Sender> T gateway(Class<T> type, Map<String, AtomicInteger> sends) {
		String name = type.getSimpleName();
		return type.cast(Proxy.newProxyInstance(Gateways.class.getClassLoader(), new Class<?>[] { type },
				(proxy, method, arguments) -> switch (method.getName()) {
					case "send" -> name + " sent " + arguments[0] + " "
							+ sends.computeIfAbsent(name + arguments[0], (key) -> new AtomicInteger())
								.incrementAndGet();
					case "hashCode" -> System.identityHashCode(proxy);
					case "equals" -> proxy == arguments[0];
					default -> name;
				}));
	}

	static Map<String, AtomicInteger> newSends() {
		return new ConcurrentHashMap<>();
	}

}
