package io.github.idempotency.annotation;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import io.github.idempotency.interceptor.IdempotentOperation;
import io.github.idempotency.interceptor.IdempotentOperationSource;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.support.AopUtils;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.MethodClassKey;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.annotation.AnnotationUtils;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.core.annotation.MergedAnnotations.SearchStrategy;
import org.springframework.expression.ParseException;
import org.springframework.expression.spel.SpelNode;
import org.springframework.expression.spel.ast.VariableReference;
import org.springframework.expression.spel.standard.SpelExpression;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.util.ClassUtils;
import org.springframework.util.StringUtils;

/**
 * Reads {@link Idempotent} from methods and their classes, and remembers the answer per
 * method.
 *
 * <p>
 * A method's own annotation wins over its class's, and applies to requests of every HTTP
 * method. The class's annotation covers, for the request methods listed in
 * {@code idempotency.methods}, every handler method ({@code @RequestMapping} and its
 * variants) a class-based proxy can intercept (neither private nor static), since handler
 * methods are often package-private, and no other method: not the controller's
 * {@code @InitBinder}, {@code @ModelAttribute} or {@code @ExceptionHandler} methods,
 * which run before the request is known to be valid, or after it failed. Declarations are
 * checked when first read, which for proxied beans is at startup: a bad duration, a SpEL
 * expression that does not parse or names a variable the method does not have, a header
 * name combined with a key expression, or the annotation on one of those controller
 * methods fail with a message naming the method.
 *
 * <p>
 * Thread-safe.
 *
 * @since 0.1.0
 */
public class AnnotationIdempotentOperationSource implements IdempotentOperationSource {

	// By name: this class must not need Spring MVC on the class path to load.
	private static final String REQUEST_MAPPING = "org.springframework.web.bind.annotation.RequestMapping";

	private static final List<String> NOT_HANDLERS = List.of("org.springframework.web.bind.annotation.InitBinder",
			"org.springframework.web.bind.annotation.ModelAttribute",
			"org.springframework.web.bind.annotation.ExceptionHandler");

	private static final ParameterNameDiscoverer PARAMETER_NAMES = new DefaultParameterNameDiscoverer();

	private final Map<MethodClassKey, Optional<IdempotentOperation>> cache = new ConcurrentHashMap<>(64);

	@Override
	public boolean isCandidateClass(Class<?> targetClass) {
		return AnnotationUtils.isCandidateClass(targetClass, Idempotent.class);
	}

	@Override
	public @Nullable IdempotentOperation getOperation(Method method, @Nullable Class<?> targetClass) {
		if (method.getDeclaringClass() == Object.class) {
			return null;
		}
		return this.cache
			.computeIfAbsent(new MethodClassKey(method, targetClass),
					(key) -> Optional.ofNullable(find(method, targetClass)))
			.orElse(null);
	}

	private @Nullable IdempotentOperation find(Method method, @Nullable Class<?> targetClass) {
		Class<?> userClass = (targetClass != null) ? ClassUtils.getUserClass(targetClass) : null;
		Method specific = AopUtils.getMostSpecificMethod(method, userClass);
		Idempotent annotation = AnnotatedElementUtils.findMergedAnnotation(specific, Idempotent.class);
		if (annotation != null) {
			for (String role : NOT_HANDLERS) {
				if (hasAnnotation(specific, role)) {
					throw new IllegalStateException("@Idempotent on " + ClassUtils.getQualifiedMethodName(specific)
							+ ", which is an @" + ClassUtils.getShortName(role) + " method; only handler methods can be"
							+ " idempotent");
				}
			}
			return parse(annotation, specific, true);
		}
		if (!Modifier.isPrivate(specific.getModifiers()) && !Modifier.isStatic(specific.getModifiers())
				&& hasAnnotation(specific, REQUEST_MAPPING)) {
			annotation = AnnotatedElementUtils.findMergedAnnotation(specific.getDeclaringClass(), Idempotent.class);
			if (annotation == null && userClass != null) {
				annotation = AnnotatedElementUtils.findMergedAnnotation(userClass, Idempotent.class);
			}
		}
		return (annotation != null) ? parse(annotation, specific, false) : null;
	}

	private static boolean hasAnnotation(Method method, String annotation) {
		return MergedAnnotations.from(method, SearchStrategy.TYPE_HIERARCHY).isPresent(annotation);
	}

	static IdempotentOperation parse(Idempotent annotation, Method method, boolean declaredOnMethod) {
		String name = ClassUtils.getQualifiedMethodName(method);
		String headerName = StringUtils.hasText(annotation.headerName()) ? annotation.headerName().trim() : null;
		String keyExpression = StringUtils.hasText(annotation.key()) ? annotation.key() : null;
		if (headerName != null && keyExpression != null) {
			throw new IllegalStateException("@Idempotent on " + name
					+ " sets both headerName and key; a key comes either from a header or from an expression");
		}
		if (keyExpression != null) {
			SpelExpression parsed;
			try {
				parsed = (SpelExpression) new SpelExpressionParser().parseExpression(keyExpression);
			}
			catch (ParseException ex) {
				throw new IllegalStateException(
						"@Idempotent on " + name + " has a key expression that does not parse: " + keyExpression, ex);
			}
			// An optional key may well be absent on some methods a class-level
			// annotation covers.
			if (annotation.required()) {
				checkVariables(parsed.getAST(), method, name, keyExpression);
			}
		}
		return new IdempotentOperation(name, headerName, keyExpression, annotation.required(),
				duration(annotation.ttl(), "ttl", name), duration(annotation.lockTimeout(), "lockTimeout", name),
				declaredOnMethod);
	}

	// A variable the method does not have would be null on every call, and every request
	// would be refused for a missing key, so it fails here. The variables are those
	// Spring's method-based evaluation context defines: each parameter by name, #p0 and
	// #a0 and so on, and #root and #this.
	private static void checkVariables(SpelNode node, Method method, String name, String expression) {
		if (node instanceof VariableReference) {
			String variable = node.toStringAST().substring(1);
			if (!isVariableOf(method, variable)) {
				String[] parameters = PARAMETER_NAMES.getParameterNames(method);
				throw new IllegalStateException("@Idempotent on " + name + " has the key expression '" + expression
						+ "', which names #" + variable + ", not a parameter of the method (its parameters are "
						+ ((parameters != null) ? "#" + String.join(", #", parameters) : "unnamed")
						+ "; #p0 or #a0 name the first by position)");
			}
		}
		for (int i = 0; i < node.getChildCount(); i++) {
			checkVariables(node.getChild(i), method, name, expression);
		}
	}

	private static boolean isVariableOf(Method method, String variable) {
		if (variable.equals("root") || variable.equals("this")) {
			return true;
		}
		String[] parameters = PARAMETER_NAMES.getParameterNames(method);
		if (parameters != null && Arrays.asList(parameters).contains(variable)) {
			return true;
		}
		if (variable.matches("[pa]\\d{1,9}")) {
			return Integer.parseInt(variable.substring(1)) < method.getParameterCount();
		}
		// Without names in the class file, only positions can be checked.
		return parameters == null;
	}

	private static @Nullable Duration duration(String value, String attribute, String method) {
		if (!StringUtils.hasText(value)) {
			return null;
		}
		Duration duration;
		try {
			duration = DurationStyle.detectAndParse(value.trim());
		}
		catch (IllegalArgumentException ex) {
			throw new IllegalStateException(
					"@Idempotent on " + method + " has " + attribute + " '" + value + "', which is not a duration", ex);
		}
		if (duration.isNegative() || duration.isZero()) {
			throw new IllegalStateException(
					"@Idempotent on " + method + " has " + attribute + " '" + value + "'; it must be positive");
		}
		return duration;
	}

}
