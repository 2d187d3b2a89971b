package io.github.idempotency.interceptor;

import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Deque;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

import org.springframework.context.expression.MethodBasedEvaluationContext;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.expression.EvaluationException;
import org.springframework.expression.Expression;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.util.ReflectionUtils;

/**
 * Evaluates {@code @Idempotent(key = "...")} expressions against a method's arguments,
 * worked out once per method and expression. An expression that only names an argument
 * ({@code #reference}, {@code #p0}) reads it directly; any other goes through SpEL, with
 * the method's parameter names looked up once. Thread-safe.
 *
 * @since 0.1.0
 */
public final class KeyExpressionEvaluator {

	private static final Pattern VARIABLE = Pattern.compile("#([A-Za-z_$][A-Za-z0-9_$]*)");

	private static final int MAX_DEPTH = 8;

	// Whether a class's toString() is its own (or a superclass's other than Object's),
	// rather than Object's identity text.
	private static final ClassValue<Boolean> HAS_OWN_TEXT = new ClassValue<>() {
		@Override
		protected Boolean computeValue(Class<?> type) {
			Method toString = ReflectionUtils.findMethod(type, "toString");
			return toString != null && toString.getDeclaringClass() != Object.class;
		}
	};

	private final SpelExpressionParser parser = new SpelExpressionParser();

	private final ParameterNameDiscoverer parameterNames = new CachedParameterNames();

	private final Map<Compiled.Key, Compiled> compiled = new ConcurrentHashMap<>();

	/**
	 * Evaluates an expression to a key. Bytes ({@code byte[]}, a {@link ByteBuffer}'s
	 * remaining ones), as message headers and record keys often come, are read as UTF-8
	 * text, or taken in Base64 where they are not text (not UTF-8, or with control
	 * characters, as a number a serializer wrote in binary); any other value gives its
	 * {@code toString()}. A value whose text would differ between equal values (another
	 * array, an object that keeps {@code Object}'s {@code toString()}) fails: every call
	 * would get a key of its own.
	 * @param expression the SpEL expression
	 * @param method the method whose arguments it sees
	 * @param arguments the arguments
	 * @return the value as a string, or {@code null}
	 * @throws EvaluationException if it fails, or gives a value that cannot be a key
	 */
	public @Nullable String evaluate(String expression, Method method, Object[] arguments) {
		Object key = value(expression, method, arguments);
		// What an Optional holds is the key; an empty one is none, not a key that every
		// call without one would share.
		if (key instanceof Optional<?> optional) {
			key = optional.orElse(null);
		}
		if (key == null || key instanceof String) {
			return (String) key;
		}
		if (key instanceof byte[] bytes) {
			return text(ByteBuffer.wrap(bytes));
		}
		if (key instanceof ByteBuffer buffer) {
			return text(buffer.duplicate());
		}
		Class<?> unstable = unstableText(key, 0);
		if (unstable != null) {
			throw new EvaluationException(expression,
					"gave a " + key.getClass().getTypeName() + ", whose text is not the same for equal values"
							+ ((unstable != key.getClass()) ? " (it holds a " + unstable.getTypeName() + ")" : "")
							+ "; name a value that is text, a number or bytes");
		}
		return key.toString();
	}

	// The type of the value, or of a part of it, whose text names its identity: an
	// array, or an object that keeps Object's toString(); or whose members may be listed
	// in another order: a collection or map other than a list, a deque, a sorted one or
	// one of enums (equal sets and maps need not iterate alike, Set.of's order changes
	// from one JVM to the next, and a map's values follow its keys). The text a record is
	// given shows its components' (which are looked into, as are the members of the
	// collections and maps taken, and what an Optional holds, as far as they nest); one a
	// record writes itself is its own.
	private static @Nullable Class<?> unstableText(Object value, int depth) {
		Class<?> type = value.getClass();
		if (type.isArray() || !HAS_OWN_TEXT.get(type)) {
			return type;
		}
		if (depth >= MAX_DEPTH) {
			return null;
		}
		if (value instanceof Optional<?> optional) {
			return optional.map((held) -> unstableText(held, depth + 1)).orElse(null);
		}
		if (value instanceof Collection<?> members) {
			boolean inOrder = members instanceof List || members instanceof Deque || members instanceof SortedSet
					|| members instanceof EnumSet;
			return inOrder ? firstUnstable(members, depth) : type;
		}
		if (value instanceof Map<?, ?> map) {
			if (!(map instanceof SortedMap) && !(map instanceof EnumMap)) {
				return type;
			}
			Class<?> unstable = firstUnstable(map.keySet(), depth);
			return (unstable != null) ? unstable : firstUnstable(map.values(), depth);
		}
		if (!(value instanceof Record)) {
			return null;
		}
		RecordComponent[] components = type.getRecordComponents();
		Object[] parts = new Object[components.length];
		StringJoiner given = new StringJoiner(", ", type.getSimpleName() + "[", "]");
		try {
			for (int i = 0; i < components.length; i++) {
				Method accessor = components[i].getAccessor();
				ReflectionUtils.makeAccessible(accessor);
				parts[i] = accessor.invoke(value);
				given.add(components[i].getName() + "=" + parts[i]);
			}
		}
		// An accessor of its own that fails: the record's text is left to it.
		catch (ReflectiveOperationException | RuntimeException ex) {
			return null;
		}
		if (!given.toString().equals(value.toString())) {
			return null;
		}
		return firstUnstable(Arrays.asList(parts), depth);
	}

	private static @Nullable Class<?> firstUnstable(Collection<?> parts, int depth) {
		for (Object part : parts) {
			Class<?> unstable = (part != null) ? unstableText(part, depth + 1) : null;
			if (unstable != null) {
				return unstable;
			}
		}
		return null;
	}

	private static String text(ByteBuffer bytes) {
		try {
			String text = StandardCharsets.UTF_8.newDecoder().decode(bytes.duplicate()).toString();
			if (text.chars().noneMatch(Character::isISOControl)) {
				return text;
			}
		}
		catch (CharacterCodingException ex) {
			// Not text: taken in Base64 below.
		}
		byte[] raw = new byte[bytes.remaining()];
		bytes.duplicate().get(raw);
		return Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
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
		Compiled evaluation = this.compiled.computeIfAbsent(new Compiled.Key(method, expression), this::compile);
		if (evaluation.argument >= 0) {
			return arguments[evaluation.argument];
		}
		MethodBasedEvaluationContext context = new MethodBasedEvaluationContext(arguments, method, arguments,
				this.parameterNames);
		return evaluation.expression.getValue(context);
	}

	private Compiled compile(Compiled.Key key) {
		Matcher variable = VARIABLE.matcher(key.expression().trim());
		// #root and #this are SpEL's own, whatever the parameters are called.
		if (variable.matches() && !variable.group(1).equals("root") && !variable.group(1).equals("this")) {
			int argument = argumentNamed(variable.group(1), key.method());
			if (argument >= 0) {
				return new Compiled(argument, null);
			}
		}
		return new Compiled(-1, this.parser.parseExpression(key.expression()));
	}

	// As SpEL's method-based context defines its variables: for each argument in turn,
	// #a<i>, #p<i> and the parameter's name, a later definition replacing an earlier one
	// of the same name.
	private int argumentNamed(String name, Method method) {
		String[] names = this.parameterNames.getParameterNames(method);
		int found = -1;
		for (int i = 0; i < method.getParameterCount(); i++) {
			if (name.equals("a" + i) || name.equals("p" + i) || (names != null && name.equals(names[i]))) {
				found = i;
			}
		}
		return found;
	}

	/**
	 * One expression for one method: the argument it names, or the parsed expression.
	 */
	private record Compiled(int argument, @Nullable Expression expression) {

		private record Key(Method method, String expression) {
		}

	}

	/**
	 * Parameter names read once per method, rather than on every evaluation.
	 */
	private static final class CachedParameterNames implements ParameterNameDiscoverer {

		private static final String[] NONE = new String[0];

		private final ParameterNameDiscoverer discoverer = new DefaultParameterNameDiscoverer();

		private final Map<Object, String[]> names = new ConcurrentHashMap<>();

		@Override
		public String @Nullable [] getParameterNames(Method method) {
			String[] found = this.names.computeIfAbsent(method, (key) -> {
				String[] discovered = this.discoverer.getParameterNames(method);
				return (discovered != null) ? discovered : NONE;
			});
			return (found != NONE) ? found : null;
		}

		@Override
		public String @Nullable [] getParameterNames(java.lang.reflect.Constructor<?> constructor) {
			return this.discoverer.getParameterNames(constructor);
		}

	}

}
