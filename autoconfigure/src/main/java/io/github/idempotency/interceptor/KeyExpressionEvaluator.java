package io.github.idempotency.interceptor;

import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.jspecify.annotations.Nullable;

import org.springframework.context.expression.MethodBasedEvaluationContext;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.expression.Expression;
import org.springframework.expression.spel.standard.SpelExpressionParser;

/**
 * Evaluates {@code @Idempotent(key = "...")} expressions against a method's arguments.
 * Parsed expressions are cached. Thread-safe.
 *
 * @since 0.1.0
 */
public final class KeyExpressionEvaluator {

	private final SpelExpressionParser parser = new SpelExpressionParser();

	private final ParameterNameDiscoverer parameterNames = new DefaultParameterNameDiscoverer();

	private final Map<String, Expression> expressions = new ConcurrentHashMap<>();

	/**
	 * Evaluates an expression to a key.
	 * @param expression the SpEL expression
	 * @param method the method whose arguments it sees
	 * @param arguments the arguments
	 * @return the value as a string, or {@code null}
	 * @throws org.springframework.expression.EvaluationException if it fails
	 */
	public @Nullable String evaluate(String expression, Method method, Object[] arguments) {
		Object key = value(expression, method, arguments);
		return (key != null) ? key.toString() : null;
	}

	/**
	 * Evaluates an expression to whatever it names.
	 * @param expression the SpEL expression
	 * @param method the method whose arguments it sees
	 * @param arguments the arguments
	 * @return the value, or {@code null}
	 * @throws org.springframework.expression.EvaluationException if it fails
	 */
	public @Nullable Object value(String expression, Method method, Object[] arguments) {
		MethodBasedEvaluationContext context = new MethodBasedEvaluationContext(arguments, method, arguments,
				this.parameterNames);
		return this.expressions.computeIfAbsent(expression, this.parser::parseExpression).getValue(context);
	}

}
