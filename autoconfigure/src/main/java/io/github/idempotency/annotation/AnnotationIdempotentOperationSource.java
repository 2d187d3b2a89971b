package io.github.idempotency.annotation;

import java.lang.annotation.Annotation;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.BaseStream;
import java.util.stream.Stream;

import io.github.idempotency.interceptor.IdempotencyPolicy;
import io.github.idempotency.interceptor.MethodOwners;
import io.github.idempotency.interceptor.IdempotentOperation;
import io.github.idempotency.interceptor.IdempotentOperationSource;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.support.AopUtils;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.context.EmbeddedValueResolverAware;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.MethodClassKey;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.core.ResolvableType;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.annotation.AnnotationUtils;
import org.springframework.core.annotation.MergedAnnotation;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.core.annotation.MergedAnnotations.SearchStrategy;
import org.springframework.core.annotation.RepeatableContainers;
import org.springframework.expression.ParseException;
import org.springframework.expression.spel.SpelNode;
import org.springframework.expression.spel.ast.VariableReference;
import org.springframework.expression.spel.standard.SpelExpression;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;
import org.springframework.util.StringUtils;
import org.springframework.util.StringValueResolver;

/**
 * Reads {@link Idempotent} from methods and their classes, and remembers the answer per
 * method.
 *
 * <p>
 * A method's own annotation wins over its class's, and applies to requests of every HTTP
 * method. The class's annotation covers, for the request methods listed in
 * {@code idempotency.methods}, every handler method ({@code @RequestMapping},
 * {@code @HttpExchange} and their variants) mapped to one of them or to no method in
 * particular, that a class-based proxy can intercept (neither private nor static), since
 * handler methods are often package-private, and no other method: not the controller's
 * {@code @InitBinder}, {@code @ModelAttribute} or {@code @ExceptionHandler} methods,
 * which run before the request is known to be valid, or after it failed. A method is a
 * web handler when it is mapped, or belongs to a {@code @Controller}; the annotation on
 * any other bean's method makes its every call idempotent, keyed by its key expression.
 * Declarations are checked when first read, which for proxied beans is at startup: a bad
 * duration, a SpEL expression that does not parse or names a variable the method does not
 * have, a header name that is not one or is combined with a key expression, the
 * annotation on one of those controller methods, a fingerprint or final exceptions on a
 * web handler, and, outside web handlers, a missing key expression, a return type a
 * replay cannot read back ({@code Object}, or an abstract type without
 * {@code @JsonTypeInfo}) or a final exception that cannot be made again fail with a
 * message naming the method.
 *
 * <p>
 * Thread-safe.
 *
 * @since 0.1.0
 */
public class AnnotationIdempotentOperationSource implements IdempotentOperationSource, EmbeddedValueResolverAware {

	// By name: this class must not need Spring MVC on the class path to load.
	private static final String REQUEST_MAPPING = "org.springframework.web.bind.annotation.RequestMapping";

	private static final List<String> NOT_HANDLERS = List.of("org.springframework.web.bind.annotation.InitBinder",
			"org.springframework.web.bind.annotation.ModelAttribute",
			"org.springframework.web.bind.annotation.ExceptionHandler");

	private static final String CONTROLLER = "org.springframework.stereotype.Controller";

	// A declarative HTTP interface's methods: Spring MVC can map them, and HTTP clients
	// are made of them.
	private static final String HTTP_EXCHANGE = "org.springframework.web.service.annotation.HttpExchange";

	// Methods a controller may carry that frameworks other than Spring MVC call.
	private static final List<String> OTHER_ENDPOINTS = List.of(
			"org.springframework.graphql.data.method.annotation.SchemaMapping",
			"org.springframework.graphql.data.method.annotation.BatchMapping",
			"org.springframework.messaging.handler.annotation.MessageMapping",
			"org.springframework.messaging.simp.annotation.SubscribeMapping",
			"org.springframework.kafka.annotation.KafkaHandler",
			"org.springframework.amqp.rabbit.annotation.RabbitHandler", "io.awspring.cloud.sqs.annotation.SqsListener",
			"org.springframework.scheduling.annotation.Scheduled", "org.springframework.context.event.EventListener",
			"org.springframework.kafka.annotation.KafkaListener",
			"org.springframework.amqp.rabbit.annotation.RabbitListener",
			"org.springframework.jms.annotation.JmsListener");

	private static final String KAFKA_LISTENER = "org.springframework.kafka.annotation.KafkaListener";

	private static final String KAFKA_HANDLER = "org.springframework.kafka.annotation.KafkaHandler";

	private static final String RABBIT_LISTENER = "org.springframework.amqp.rabbit.annotation.RabbitListener";

	private static final String RABBIT_HANDLER = "org.springframework.amqp.rabbit.annotation.RabbitHandler";

	private static final String AMQP_MESSAGE = "org.springframework.amqp.core.Message";

	private static final String MESSAGING_MESSAGE = "org.springframework.messaging.Message";

	private static final String KAFKA_LISTENERS = "org.springframework.kafka.annotation.KafkaListeners";

	private static final String RABBIT_LISTENERS = "org.springframework.amqp.rabbit.annotation.RabbitListeners";

	private static final List<String> OTHER_LISTENERS = List.of("org.springframework.jms.annotation.JmsListener",
			"io.awspring.cloud.sqs.annotation.SqsListener");

	private static final String KAFKA_ACKNOWLEDGMENT = "org.springframework.kafka.support.Acknowledgment";

	private static final String CONSUMER_RECORDS = "org.apache.kafka.clients.consumer.ConsumerRecords";

	private static final String STREAM_LISTENER = "org.springframework.data.redis.stream.StreamListener";

	private static final String REACTIVE_PUBLISHER = "org.reactivestreams.Publisher";

	// Parameters a listener method may take that are not its message: the message's
	// headers and the means to acknowledge it.
	private static final List<String> NOT_PAYLOAD = List.of("org.springframework.messaging.handler.annotation.Header",
			"org.springframework.messaging.handler.annotation.Headers");

	private static final List<String> NOT_PAYLOAD_TYPES = List.of("org.springframework.messaging.MessageHeaders",
			"org.springframework.kafka.support.Acknowledgment", "org.apache.kafka.clients.consumer.Consumer",
			"org.springframework.kafka.listener.adapter.ConsumerRecordMetadata",
			"org.apache.kafka.common.header.Headers", "com.rabbitmq.client.Channel",
			"org.springframework.amqp.core.MessageProperties");

	// What each broker's message type carries as its payload, without headers that differ
	// between deliveries of the same message (an id, a timestamp, an offset).
	private static final Map<String, String> PAYLOADS = Map.of(MESSAGING_MESSAGE, ".payload",
			"org.apache.kafka.clients.consumer.ConsumerRecord", ".value()", AMQP_MESSAGE, ".body");

	private static final String JSON_TYPE_INFO = "com.fasterxml.jackson.annotation.JsonTypeInfo";

	private static final ParameterNameDiscoverer PARAMETER_NAMES = new DefaultParameterNameDiscoverer();

	private final Map<MethodClassKey, Optional<IdempotentOperation>> cache = new ConcurrentHashMap<>(64);

	private final Set<Class<?>> checkedClasses = ConcurrentHashMap.newKeySet();

	private final Map<MethodClassKey, KafkaListenerDeclaration> kafkaListeners = new ConcurrentHashMap<>();

	private final Map<MethodClassKey, RabbitListenerDeclaration> rabbitListeners = new ConcurrentHashMap<>();

	// Null when class-level annotations cover handlers of every request method, which the
	// handler interceptor then filters by idempotency.methods.
	private final @Nullable Set<String> classLevelMethods;

	private @Nullable StringValueResolver valueResolver;

	/**
	 * A source whose class-level annotations cover handlers of any request method; the
	 * handler interceptor still handles only requests whose method
	 * {@code idempotency.methods} lists, but startup checks each of them.
	 */
	public AnnotationIdempotentOperationSource() {
		this.classLevelMethods = null;
	}

	/**
	 * A source whose class-level annotations cover handlers of the given request methods.
	 * @param classLevelMethods the request methods, as {@code idempotency.methods} lists
	 * them
	 */
	public AnnotationIdempotentOperationSource(Collection<String> classLevelMethods) {
		this.classLevelMethods = Set.copyOf(classLevelMethods);
	}

	/**
	 * Resolves placeholders and expressions in the annotation's durations, such as
	 * {@code @Idempotent(ttl = "${payments.ttl}")}, and in the listener annotations that
	 * name a method's consumer, such as {@code @KafkaListener(groupId =
	 * "${ledger.group}")}.
	 * @param resolver the application context's resolver
	 */
	@Override
	public void setEmbeddedValueResolver(StringValueResolver resolver) {
		this.valueResolver = resolver;
	}

	@Override
	public boolean isCandidateClass(Class<?> targetClass) {
		return AnnotationUtils.isCandidateClass(targetClass, Idempotent.class);
	}

	@Override
	public @Nullable IdempotentOperation getOperation(Method method, @Nullable Class<?> targetClass) {
		if (method.getDeclaringClass() == Object.class) {
			return null;
		}
		MethodClassKey key = new MethodClassKey(method, targetClass);
		Optional<IdempotentOperation> known = this.cache.get(key);
		if (known != null) {
			return known.orElse(null);
		}
		if (targetClass != null) {
			checkOnce(ClassUtils.getUserClass(targetClass));
		}
		// Not in computeIfAbsent: reading a declaration can resolve a placeholder or an
		// expression that creates a bean, whose proxying asks this cache again. Two
		// threads may both read the same method; the answer is the same.
		Optional<IdempotentOperation> found = Optional.ofNullable(find(method, targetClass));
		Optional<IdempotentOperation> first = this.cache.putIfAbsent(key, found);
		return ((first != null) ? first : found).orElse(null);
	}

	/**
	 * How many methods outside web handlers were found idempotent so far: at startup,
	 * those of every bean proxied.
	 * @return the number of such methods
	 */
	public int methodOperationCount() {
		return (int) this.cache.values()
			.stream()
			.flatMap(Optional::stream)
			.filter((operation) -> !operation.handler())
			.map(IdempotentOperation::name)
			.distinct()
			.count();
	}

	/**
	 * The idempotent Kafka listeners found so far, with their container factory and batch
	 * mode as their annotation writes them. They are resolved by whoever reads them once
	 * the application's beans exist: an expression there may name a bean.
	 * @return the listeners
	 */
	public Collection<KafkaListenerDeclaration> kafkaListeners() {
		return List.copyOf(this.kafkaListeners.values());
	}

	/**
	 * The idempotent RabbitMQ listeners found so far, with their container factory and
	 * acknowledge mode as their annotation writes them, unresolved.
	 * @return the listeners
	 */
	public Collection<RabbitListenerDeclaration> rabbitListeners() {
		return List.copyOf(this.rabbitListeners.values());
	}

	private void rememberListener(Method method, @Nullable Class<?> userClass, IdempotentOperation operation) {
		if (operation.handler()) {
			return;
		}
		Class<?> owner = (userClass != null) ? userClass : method.getDeclaringClass();
		MergedAnnotation<?> kafka = listenerAnnotation(method, owner, KAFKA_LISTENER, KAFKA_HANDLER);
		if (kafka.isPresent()) {
			this.kafkaListeners.put(new MethodClassKey(method, owner), new KafkaListenerDeclaration(operation.name(),
					kafka.getString("containerFactory").trim(), kafka.getString("batch").trim()));
		}
		MergedAnnotation<?> rabbit = listenerAnnotation(method, owner, RABBIT_LISTENER, RABBIT_HANDLER);
		if (rabbit.isPresent()) {
			this.rabbitListeners.put(new MethodClassKey(method, owner),
					new RabbitListenerDeclaration(operation.name(), rabbit.getString("id").trim(),
							rabbit.getString("containerFactory").trim(), rabbit.getString("ackMode").trim(),
							rabbit.getValue("batch").map((batch) -> batch.toString().trim()).orElse(""),
							acknowledgedOnCompletion(method)));
		}
	}

	// Proxying asks about a final, private or static method only if no other method of
	// its class matched first, so such an annotated method, which no proxy intercepts,
	// is read as soon as any method of its class is, to fail there.
	private void checkOnce(Class<?> userClass) {
		if (this.checkedClasses.add(userClass)) {
			ReflectionUtils.doWithMethods(userClass, (method) -> getOperation(method, userClass),
					(method) -> (Modifier.isFinal(method.getModifiers()) || Modifier.isPrivate(method.getModifiers())
							|| Modifier.isStatic(method.getModifiers()))
							&& AnnotatedElementUtils.hasAnnotation(method, Idempotent.class));
		}
	}

	private @Nullable IdempotentOperation find(Method method, @Nullable Class<?> targetClass) {
		Class<?> userClass = (targetClass != null) ? MethodOwners.ownerOf(method, targetClass) : null;
		Method specific = (userClass != null) ? MethodOwners.declaredMethod(method, userClass)
				: AopUtils.getMostSpecificMethod(method, null);
		Idempotent annotation = AnnotatedElementUtils.findMergedAnnotation(specific, Idempotent.class);
		if (annotation != null) {
			for (String role : NOT_HANDLERS) {
				if (hasAnnotation(specific, role)) {
					throw new IllegalStateException("@Idempotent on " + ClassUtils.getQualifiedMethodName(specific)
							+ ", which is an @" + ClassUtils.getShortName(role) + " method; only handler methods can be"
							+ " idempotent");
				}
			}
			if (isRedisStreamListener(specific, userClass)) {
				throw new IllegalStateException("@Idempotent on " + ClassUtils.getQualifiedMethodName(specific)
						+ ", a Redis stream listener: Spring Data Redis's container acknowledges no entry itself, and a"
						+ " duplicate does not run the method, so an entry it acknowledges would stay pending; one"
						+ " refused for now (its duplicate in progress, the store out of reach) is lost where the read"
						+ " acknowledges on delivery or reads without a group. Put @Idempotent on the method onMessage"
						+ " calls, and acknowledge (XACK) in onMessage once that method returns");
			}
			IdempotentOperation operation = parse(annotation, specific, userClass, true, isHandler(specific, userClass),
					this.valueResolver);
			rememberListener(specific, userClass, operation);
			return operation;
		}
		Class<?> owner = (userClass != null) ? userClass : specific.getDeclaringClass();
		if ((AnnotatedElementUtils.hasAnnotation(specific.getDeclaringClass(), Idempotent.class)
				|| AnnotatedElementUtils.hasAnnotation(owner, Idempotent.class)) && !isController(owner)
				&& !isController(specific.getDeclaringClass()) && !hasMappedMethods(owner)) {
			throw new IllegalStateException("@Idempotent on the class of " + ClassUtils.getQualifiedMethodName(specific)
					+ ", which is not a controller: on a class, it covers only handler methods. Annotate each method"
					+ " to make idempotent, with its key expression.");
		}
		if (!Modifier.isPrivate(specific.getModifiers()) && !Modifier.isStatic(specific.getModifiers())
				&& (hasAnnotation(specific, REQUEST_MAPPING) || hasAnnotation(specific, HTTP_EXCHANGE))
				&& mapsCoveredMethod(specific, owner)) {
			annotation = AnnotatedElementUtils.findMergedAnnotation(specific.getDeclaringClass(), Idempotent.class);
			if (annotation == null && userClass != null) {
				annotation = AnnotatedElementUtils.findMergedAnnotation(userClass, Idempotent.class);
			}
		}
		return (annotation != null) ? parse(annotation, specific, userClass, false, true, this.valueResolver) : null;
	}

	// A handler mapped to none of the request methods a class-level annotation covers
	// (a GET beside the POSTs) is not idempotent: it is not checked at startup either.
	// Spring MVC joins the methods of the class's mapping to the method's, and a mapping
	// that names none takes them all.
	private boolean mapsCoveredMethod(Method method, Class<?> owner) {
		if (this.classLevelMethods == null) {
			return true;
		}
		Set<String> mapped = new HashSet<>();
		addRequestMethods(method, mapped);
		addRequestMethods(owner, mapped);
		if (mapped.contains("GET")) {
			// Spring MVC answers HEAD with the GET handler.
			mapped.add("HEAD");
		}
		return mapped.isEmpty() || mapped.stream().anyMatch(this.classLevelMethods::contains);
	}

	private static void addRequestMethods(AnnotatedElement element, Set<String> methods) {
		MergedAnnotations annotations = MergedAnnotations.from(element, SearchStrategy.TYPE_HIERARCHY);
		MergedAnnotation<?> mapping = annotations.get(REQUEST_MAPPING);
		if (mapping.isPresent()) {
			for (Object method : (Object[]) mapping.getValue("method").orElse(new Object[0])) {
				methods.add(((Enum<?>) method).name());
			}
		}
		MergedAnnotation<?> exchange = annotations.get(HTTP_EXCHANGE);
		if (exchange.isPresent() && StringUtils.hasText(exchange.getString("method"))) {
			methods.add(exchange.getString("method").trim().toUpperCase(Locale.ROOT));
		}
	}

	// A method of a controller may be mapped while the application runs, by no
	// annotation; it is a handler all the same, unless another framework calls it.
	private static boolean isHandler(Method method, @Nullable Class<?> userClass) {
		if (hasAnnotation(method, REQUEST_MAPPING) || hasAnnotation(method, HTTP_EXCHANGE)) {
			return true;
		}
		for (String endpoint : OTHER_ENDPOINTS) {
			if (hasAnnotation(method, endpoint)) {
				return false;
			}
		}
		return isController(method.getDeclaringClass()) || (userClass != null && isController(userClass));
	}

	// A class mapped without @Controller: an interface a Feign client implements, a
	// Spring Data REST controller.
	private static boolean hasMappedMethods(Class<?> type) {
		return Arrays.stream(ReflectionUtils.getAllDeclaredMethods(type))
			.anyMatch((method) -> hasAnnotation(method, REQUEST_MAPPING) || hasAnnotation(method, HTTP_EXCHANGE));
	}

	private static boolean isController(Class<?> type) {
		return MergedAnnotations.from(type, SearchStrategy.TYPE_HIERARCHY).isPresent(CONTROLLER);
	}

	private static boolean hasAnnotation(Method method, String annotation) {
		return MergedAnnotations.from(method, SearchStrategy.TYPE_HIERARCHY).isPresent(annotation);
	}

	static IdempotentOperation parse(Idempotent annotation, Method method, @Nullable Class<?> userClass,
			boolean declaredOnMethod, boolean handler, @Nullable StringValueResolver resolver) {
		String name = ClassUtils.getQualifiedMethodName(method);
		String headerName = StringUtils.hasText(annotation.headerName()) ? annotation.headerName().trim() : null;
		String keyExpression = StringUtils.hasText(annotation.key()) ? annotation.key() : null;
		if (headerName != null && !isToken(headerName)) {
			throw new IllegalStateException("@Idempotent on " + name + " names the header '" + headerName
					+ "', which is not a valid HTTP header name: no request could carry it");
		}
		if (headerName != null && keyExpression != null) {
			throw new IllegalStateException("@Idempotent on " + name
					+ " sets both headerName and key; a key comes either from a header or from an expression");
		}
		if (!handler && keyExpression == null) {
			throw new IllegalStateException("@Idempotent on " + name + " has no key expression. Outside a web handler"
					+ " the key comes from the method's arguments: name it with @Idempotent(key = \"...\"), such as"
					+ " key = \"#p0.id\"" + ((headerName != null) ? "; headerName applies to web handlers only" : ""));
		}
		if (keyExpression != null) {
			SpelExpression parsed = parseExpression(keyExpression, "key", name);
			// An optional key may well be absent on some methods a class-level
			// annotation covers.
			if (annotation.required() || declaredOnMethod) {
				checkVariables(parsed.getAST(), method, name, "key", keyExpression);
			}
		}
		String fingerprintExpression = StringUtils.hasText(annotation.fingerprint()) ? annotation.fingerprint() : null;
		boolean listener = !handler && isListener(method, userClass);
		if (listener && isKafkaBatch(method, userClass)) {
			throw new IllegalStateException("@Idempotent on " + name + ", a Kafka batch listener: one key cannot stand"
					+ " for a batch, whose records change from one poll to the next. Process each record through an"
					+ " @Idempotent method with KafkaBatch.forEachRecord");
		}
		if (listener && isRabbitBatch(method, userClass)) {
			throw new IllegalStateException("@Idempotent on " + name + ", a RabbitMQ batch listener: one key cannot"
					+ " stand for a batch, whose messages change from one delivery to the next. Call an @Idempotent"
					+ " method for each message of the batch");
		}
		if (listener && hasSeveralListeners(method, userClass)) {
			throw new IllegalStateException("@Idempotent on " + name + ", which listens for several consumers: a"
					+ " call cannot tell which one it was made for, so the first consumer to process a message would"
					+ " answer for the others. Give each consumer a listener method of its own");
		}
		if (listener && acknowledgesItself(method, userClass)) {
			throw new IllegalStateException("@Idempotent on " + name + ", a listener that acknowledges its messages"
					+ " itself: a duplicate does not run it, so it would never be acknowledged. Put @Idempotent on"
					+ " the method that does the work, and acknowledge in the listener once that method returns");
		}
		if (fingerprintExpression == null && listener) {
			fingerprintExpression = payloadExpression(method);
		}
		else if (fingerprintExpression != null) {
			checkVariables(parseExpression(fingerprintExpression, "fingerprint", name).getAST(), method, name,
					"fingerprint", fingerprintExpression);
		}
		List<Class<? extends Throwable>> finalExceptions = List.of(annotation.finalExceptions());
		for (Class<? extends Throwable> type : finalExceptions) {
			if (Modifier.isAbstract(type.getModifiers())
					|| (ClassUtils.getConstructorIfAvailable(type, String.class) == null
							&& ClassUtils.getConstructorIfAvailable(type) == null)) {
				throw new IllegalStateException("@Idempotent on " + name + " names " + type.getName()
						+ " among its final exceptions, which is abstract or has no public constructor taking a message,"
						+ " or none, to throw it again on replay");
			}
		}
		if (!handler) {
			// A JDK proxy's methods, final, are read from its interfaces (MethodOwners).
			if (Modifier.isPrivate(method.getModifiers()) || Modifier.isStatic(method.getModifiers())
					|| Modifier.isFinal(method.getModifiers())) {
				throw new IllegalStateException("@Idempotent on " + name + ", which is private, final or static: a"
						+ " proxy cannot intercept its calls");
			}
			checkReturnType(method, userClass, name);
		}
		if (handler && annotation.completion() != Idempotent.Completion.DEFAULT) {
			throw new IllegalStateException("@Idempotent on " + name + " sets completion, which applies outside web"
					+ " handlers only: the response a retry gets exists only once the handler has returned");
		}
		if (handler && (fingerprintExpression != null || !finalExceptions.isEmpty())) {
			throw new IllegalStateException("@Idempotent on " + name + " sets "
					+ ((fingerprintExpression != null) ? "fingerprint" : "finalExceptions") + ", which applies outside"
					+ " web handlers only: a request is told apart by its method, route and body, and its response"
					+ " is what a retry gets, whatever the handler threw");
		}
		String scope = StringUtils.hasText(annotation.scope()) ? annotation.scope().trim() : null;
		String consumer = (listener && scope == null) ? consumer(method, userClass, resolver, name) : null;
		return new IdempotentOperation(name, headerName, keyExpression, annotation.required(),
				atMostLongestRetention(duration(annotation.ttl(), "ttl", name, false, resolver), name),
				lockTimeout(duration(annotation.lockTimeout(), "lockTimeout", name, false, resolver), name),
				atMostLongestWait(duration(annotation.waitTimeout(), "waitTimeout", name, true, resolver), name),
				declaredOnMethod, handler, scope, fingerprintExpression, finalExceptions,
				switch (annotation.completion()) {
					case DEFAULT -> null;
					case IN_TRANSACTION -> IdempotentOperation.Completion.IN_TRANSACTION;
					case AFTER_COMMIT -> IdempotentOperation.Completion.AFTER_COMMIT;
					case ON_RETURN -> IdempotentOperation.Completion.ON_RETURN;
				}, consumer);
	}

	// RFC 9110's token, which a field name is.
	private static boolean isToken(String value) {
		return value.chars()
			.allMatch((c) -> (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
					|| "!#$%&'*+-.^_`|~".indexOf(c) >= 0);
	}

	private static boolean isListener(Method method, @Nullable Class<?> userClass) {
		if (hasAnnotation(method, KAFKA_LISTENER) || hasAnnotation(method, RABBIT_LISTENER)
				|| OTHER_LISTENERS.stream().anyMatch((listener) -> hasAnnotation(method, listener))) {
			return true;
		}
		return hasAnnotation(method, KAFKA_HANDLER) || hasAnnotation(method, RABBIT_HANDLER);
	}

	private static boolean isRedisStreamListener(Method method, @Nullable Class<?> userClass) {
		Class<?> owner = (userClass != null) ? userClass : method.getDeclaringClass();
		return method.getName().equals("onMessage") && method.getParameterCount() == 1 && isA(owner, STREAM_LISTENER);
	}

	// Found as each library finds them: the nearest annotation, or the nearest container
	// of repeated ones, on the method, or on the class for a handler method.
	private static boolean hasSeveralListeners(Method method, @Nullable Class<?> userClass) {
		Class<?> owner = (userClass != null) ? userClass : method.getDeclaringClass();
		boolean handler = hasAnnotation(method, KAFKA_HANDLER) || hasAnnotation(method, RABBIT_HANDLER);
		return repeatsListener(method) || (handler && repeatsListener(owner));
	}

	private static boolean repeatsListener(AnnotatedElement element) {
		MergedAnnotations annotations = MergedAnnotations.from(element, SearchStrategy.TYPE_HIERARCHY,
				RepeatableContainers.none());
		return Stream.of(KAFKA_LISTENERS, RABBIT_LISTENERS)
			.map(annotations::get)
			.filter(MergedAnnotation::isPresent)
			.anyMatch((repeated) -> Array.getLength(repeated.getValue("value").orElse(new Object[0])) > 1);
	}

	// Kafka hands a listener an Acknowledgment only in a manual acknowledgment mode.
	private static boolean acknowledgesItself(Method method, @Nullable Class<?> userClass) {
		if (Arrays.stream(method.getParameterTypes()).anyMatch((type) -> isA(type, KAFKA_ACKNOWLEDGMENT))) {
			return true;
		}
		Class<?> owner = (userClass != null) ? userClass : method.getDeclaringClass();
		MergedAnnotation<?> rabbit = listenerAnnotation(method, owner, RABBIT_LISTENER, RABBIT_HANDLER);
		return rabbit.isPresent() && rabbit.getString("ackMode").trim().equalsIgnoreCase("MANUAL")
				&& !acknowledgedOnCompletion(method);
	}

	// Spring AMQP acknowledges the message of a listener that returns a CompletableFuture
	// itself once the future completes, in the manual mode its container then takes on
	// whatever it was given.
	private static boolean acknowledgedOnCompletion(Method method) {
		return CompletableFuture.class.isAssignableFrom(method.getReturnType());
	}

	private static boolean isKafkaBatch(Method method, @Nullable Class<?> userClass) {
		Class<?> owner = (userClass != null) ? userClass : method.getDeclaringClass();
		MergedAnnotation<?> kafka = listenerAnnotation(method, owner, KAFKA_LISTENER, KAFKA_HANDLER);
		if (!kafka.isPresent()) {
			return false;
		}
		if (kafka.getString("batch").trim().equalsIgnoreCase("true")) {
			return true;
		}
		for (int i = 0; i < method.getParameterCount(); i++) {
			ResolvableType type = ResolvableType.forMethodParameter(method, i);
			if (isA(type.toClass(), CONSUMER_RECORDS) || (List.class.isAssignableFrom(type.toClass())
					&& PAYLOADS.keySet().stream().anyMatch((message) -> isA(type.getGeneric(0).toClass(), message)))) {
				return true;
			}
		}
		return false;
	}

	// A RabbitMQ listener says it takes batches, or takes a list of messages, which only
	// a batch is. A list of payloads may be one message's, where the factory decides:
	// that is checked once the factories exist.
	private static boolean isRabbitBatch(Method method, @Nullable Class<?> userClass) {
		Class<?> owner = (userClass != null) ? userClass : method.getDeclaringClass();
		MergedAnnotation<?> rabbit = listenerAnnotation(method, owner, RABBIT_LISTENER, RABBIT_HANDLER);
		if (!rabbit.isPresent()) {
			return false;
		}
		if (rabbit.getValue("batch").map((batch) -> batch.toString().trim().equalsIgnoreCase("true")).orElse(false)) {
			return true;
		}
		for (int i = 0; i < method.getParameterCount(); i++) {
			ResolvableType type = ResolvableType.forMethodParameter(method, i);
			if (List.class.isAssignableFrom(type.toClass()) && (isA(type.getGeneric(0).toClass(), AMQP_MESSAGE)
					|| isA(type.getGeneric(0).toClass(), MESSAGING_MESSAGE))) {
				return true;
			}
		}
		return false;
	}

	// The message a listener is called with, without what differs between two deliveries
	// of it: the same event published twice, or redelivered, is the same call.
	private static String payloadExpression(Method method) {
		List<String> payloads = new ArrayList<>();
		Parameter[] parameters = method.getParameters();
		for (int i = 0; i < parameters.length; i++) {
			MergedAnnotations annotations = MergedAnnotations.from(parameters[i]);
			Class<?> type = parameters[i].getType();
			if (NOT_PAYLOAD.stream().anyMatch(annotations::isPresent)
					|| NOT_PAYLOAD_TYPES.stream().anyMatch((name) -> isA(type, name))) {
				continue;
			}
			String payload = PAYLOADS.entrySet()
				.stream()
				.filter((entry) -> isA(type, entry.getKey()))
				.map(Map.Entry::getValue)
				.findFirst()
				.orElse("");
			payloads.add("#p" + i + payload);
		}
		// Nothing but headers and delivery details, which differ between two deliveries
		// of one message: the key alone says which message it is.
		if (payloads.isEmpty()) {
			return "''";
		}
		return (payloads.size() == 1) ? payloads.get(0) : "{" + String.join(", ", payloads) + "}";
	}

	// The consumer a listener's calls are made for: a Kafka consumer group, a RabbitMQ
	// listener's id or its queues.
	private static @Nullable String consumer(Method method, @Nullable Class<?> userClass,
			@Nullable StringValueResolver resolver, String name) {
		Class<?> owner = (userClass != null) ? userClass : method.getDeclaringClass();
		MergedAnnotation<?> kafka = listenerAnnotation(method, owner, KAFKA_LISTENER, KAFKA_HANDLER);
		if (kafka.isPresent()) {
			String group = resolve(kafka.getString("groupId"), resolver);
			if (group.isEmpty() && kafka.getBoolean("idIsGroup")) {
				group = resolve(kafka.getString("id"), resolver);
			}
			if (group.isEmpty()) {
				group = resolve("${spring.kafka.consumer.group-id:}", resolver);
			}
			return group.isEmpty() ? null : "kafka group " + group;
		}
		MergedAnnotation<?> rabbit = listenerAnnotation(method, owner, RABBIT_LISTENER, RABBIT_HANDLER);
		if (rabbit.isPresent()) {
			List<MergedAnnotation<Annotation>> declared = new ArrayList<>(
					Arrays.asList(rabbit.getAnnotationArray("queuesToDeclare", Annotation.class)));
			for (MergedAnnotation<Annotation> binding : rabbit.getAnnotationArray("bindings", Annotation.class)) {
				declared.add(binding.getAnnotation("value", Annotation.class));
			}
			List<String> declaredNames = declared.stream()
				.map((queue) -> resolve(queue.getString("name"), resolver))
				.toList();
			if (declaredNames.contains("")) {
				throw new IllegalStateException("@Idempotent on " + name + ", a RabbitMQ listener on an anonymous"
						+ " queue: each instance declares one of its own and gets every message, and the first"
						+ " instance to process a message would answer for the others, which would never run. Name"
						+ " the queue per instance (@Queue(\"evictions-${HOSTNAME}\"), say), or set"
						+ " @Idempotent(scope = ...) if one instance is meant to answer for all");
			}
			String id = resolve(rabbit.getString("id"), resolver);
			if (!id.isEmpty()) {
				return "rabbit listener " + id;
			}
			String queues = Stream
				.concat(Arrays.stream(rabbit.getStringArray("queues")).map((queue) -> resolve(queue, resolver)),
						declaredNames.stream())
				.filter((queue) -> !queue.isEmpty())
				.sorted()
				.distinct()
				.collect(Collectors.joining(","));
			return queues.isEmpty() ? null : "rabbit queues " + queues;
		}
		return null;
	}

	private static MergedAnnotation<?> listenerAnnotation(Method method, Class<?> owner, String listener,
			String handler) {
		MergedAnnotation<?> onMethod = MergedAnnotations.from(method, SearchStrategy.TYPE_HIERARCHY).get(listener);
		if (onMethod.isPresent() || !hasAnnotation(method, handler)) {
			return onMethod;
		}
		return MergedAnnotations.from(owner, SearchStrategy.TYPE_HIERARCHY).get(listener);
	}

	// A value only the listener container can work out (an expression over the listener
	// bean, #{__listener.group}) is taken as written.
	private static String resolve(String value, @Nullable StringValueResolver resolver) {
		String resolved;
		try {
			resolved = (resolver != null && !value.isEmpty()) ? resolver.resolveStringValue(value) : value;
		}
		catch (RuntimeException ex) {
			resolved = value;
		}
		return (resolved != null) ? resolved.trim() : "";
	}

	// By name, so that the class named need not be on the class path: the type, its
	// superclasses and every interface they extend or implement.
	private static boolean isA(Class<?> type, String name) {
		if (type.getName().equals(name)) {
			return true;
		}
		Class<?> superclass = type.getSuperclass();
		if (superclass != null && isA(superclass, name)) {
			return true;
		}
		for (Class<?> implemented : type.getInterfaces()) {
			if (isA(implemented, name)) {
				return true;
			}
		}
		return false;
	}

	// A replay hands back what the method's return type reads from JSON: for Object or an
	// abstract type that is not what the first call returned, so such methods fail here.
	private static void checkReturnType(Method method, @Nullable Class<?> userClass, String name) {
		ResolvableType type = ResolvableType.forMethodReturnType(method,
				(userClass != null) ? userClass : method.getDeclaringClass());
		Class<?> returned = type.toClass();
		// Such a value is a recipe, not a result: its work runs each time it is consumed,
		// after the call (and its claim) ended, and again for every subscriber.
		if (isA(returned, REACTIVE_PUBLISHER) || Flow.Publisher.class.isAssignableFrom(returned)
				|| BaseStream.class.isAssignableFrom(returned)) {
			throw new IllegalStateException("@Idempotent on " + name + " returns " + returned.getName()
					+ ", whose work runs when it is consumed, after the call returned, and again for each consumer:"
					+ " return the result itself, or a CompletableFuture of it (a Mono's toFuture())");
		}
		if (CompletionStage.class.isAssignableFrom(returned)) {
			// A replay, and the copy the first caller gets, are CompletableFutures.
			if (returned != CompletableFuture.class && returned != CompletionStage.class) {
				throw new IllegalStateException("@Idempotent on " + name + " returns " + returned.getName()
						+ ", which a replay cannot return: declare CompletableFuture or CompletionStage");
			}
			type = type.as(CompletionStage.class).getGeneric(0);
		}
		String problem = roundTripProblem(type, true);
		if (problem != null) {
			throw new IllegalStateException("@Idempotent on " + name + " returns " + type + ", " + problem
					+ "; return a concrete type, so that a replay returns what the first call returned");
		}
	}

	private static @Nullable String roundTripProblem(ResolvableType type, boolean topLevel) {
		Class<?> resolved = type.resolve();
		if (resolved == null) {
			return "whose type " + type + " is only known at run time";
		}
		if (resolved.isPrimitive() || resolved == Void.class) {
			return null;
		}
		if (resolved.isArray()) {
			return roundTripProblem(type.getComponentType(), false);
		}
		if (Collection.class.isAssignableFrom(resolved) || Map.class.isAssignableFrom(resolved)
				|| resolved == Optional.class) {
			for (ResolvableType generic : type.getGenerics()) {
				String problem = roundTripProblem(generic, false);
				if (problem != null) {
					return problem;
				}
			}
			return null;
		}
		if (resolved == Object.class) {
			return topLevel ? "which a replay cannot read back as the type the first call returned" : null;
		}
		if ((resolved.isInterface() || Modifier.isAbstract(resolved.getModifiers())) && resolved != Number.class
				&& resolved != CharSequence.class
				&& !MergedAnnotations.from(resolved, SearchStrategy.TYPE_HIERARCHY).isPresent(JSON_TYPE_INFO)) {
			return "whose " + resolved.getName() + " is abstract, and read back from JSON only with @JsonTypeInfo";
		}
		return null;
	}

	private static SpelExpression parseExpression(String expression, String attribute, String name) {
		try {
			return (SpelExpression) new SpelExpressionParser().parseExpression(expression);
		}
		catch (ParseException ex) {
			throw new IllegalStateException(
					"@Idempotent on " + name + " has a " + attribute + " expression that does not parse: " + expression,
					ex);
		}
	}

	// A variable the method does not have would be null on every call: every request
	// would be refused for a missing key, or every fingerprint would be the same, so it
	// fails here. The variables are those Spring's method-based evaluation context
	// defines: each parameter by name (where the class file has the names), #p0 and #a0
	// and so on, and #root and #this.
	private static void checkVariables(SpelNode node, Method method, String name, String attribute, String expression) {
		if (node instanceof VariableReference) {
			String variable = node.toStringAST().substring(1);
			if (!isVariableOf(method, variable)) {
				String[] parameters = PARAMETER_NAMES.getParameterNames(method);
				throw new IllegalStateException("@Idempotent on " + name + " has the " + attribute + " expression '"
						+ expression + "', which names #" + variable + ", not a parameter of the method ("
						+ ((parameters != null) ? "its parameters are #" + String.join(", #", parameters)
								: "its class was compiled without parameter names: javac's -parameters, which Spring "
										+ "Boot's Maven parent and Gradle plugin set, keeps them")
						+ "; #p0 or #a0 name the first by position)");
			}
		}
		for (int i = 0; i < node.getChildCount(); i++) {
			checkVariables(node.getChild(i), method, name, attribute, expression);
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
		if (variable.matches("[pa](0|[1-9]\\d{0,8})")) {
			return Integer.parseInt(variable.substring(1)) < method.getParameterCount();
		}
		return false;
	}

	private static @Nullable Duration lockTimeout(@Nullable Duration lockTimeout, String method) {
		if (lockTimeout != null && !IdempotencyPolicy.isUsableLockTimeout(lockTimeout)) {
			throw new IllegalStateException(
					"@Idempotent on " + method + " has lockTimeout " + lockTimeout + "; it must be between "
							+ IdempotencyPolicy.SHORTEST_LOCK_TIMEOUT + " and " + IdempotencyPolicy.LONGEST_WAIT);
		}
		return lockTimeout;
	}

	private static @Nullable Duration atMostLongestRetention(@Nullable Duration ttl, String method) {
		if (ttl != null && ttl.compareTo(IdempotencyPolicy.LONGEST_RETENTION) > 0) {
			throw new IllegalStateException("@Idempotent on " + method + " has ttl " + ttl + "; it must be at most "
					+ IdempotencyPolicy.LONGEST_RETENTION);
		}
		return ttl;
	}

	private static @Nullable Duration atMostLongestWait(@Nullable Duration waitTimeout, String method) {
		if (waitTimeout != null && waitTimeout.compareTo(IdempotencyPolicy.LONGEST_WAIT) > 0) {
			throw new IllegalStateException("@Idempotent on " + method + " has waitTimeout " + waitTimeout
					+ "; it must be at most " + IdempotencyPolicy.LONGEST_WAIT);
		}
		return waitTimeout;
	}

	private static @Nullable Duration duration(String written, String attribute, String method, boolean zeroAllowed,
			@Nullable StringValueResolver resolver) {
		String value = written;
		if (resolver != null && (written.contains("${") || written.contains("#{"))) {
			try {
				value = resolver.resolveStringValue(written);
			}
			catch (RuntimeException ex) {
				throw new IllegalStateException("@Idempotent on " + method + " has " + attribute + " '" + written
						+ "', which cannot be resolved: " + ex.getMessage(), ex);
			}
		}
		if (!StringUtils.hasText(value)) {
			return null;
		}
		// Read as milliseconds, a number meant as seconds (a retention of "86400") would
		// let retries run again within minutes.
		if (value.trim().matches("[-+]?0*[1-9][0-9]*")) {
			throw new IllegalStateException("@Idempotent on " + method + " has " + attribute + " '" + value + "'"
					+ (value.equals(written) ? "" : " (from '" + written + "')")
					+ ", a number without a unit; write the unit, such as '" + value.trim() + "s' or '" + value.trim()
					+ "ms'");
		}
		Duration duration;
		try {
			duration = DurationStyle.detectAndParse(value.trim());
		}
		catch (IllegalArgumentException ex) {
			throw new IllegalStateException(
					"@Idempotent on " + method + " has " + attribute + " '" + value + "', which is not a duration", ex);
		}
		if (duration.isNegative() || (duration.isZero() && !zeroAllowed)) {
			throw new IllegalStateException("@Idempotent on " + method + " has " + attribute + " '" + value
					+ "'; it must be " + (zeroAllowed ? "zero or positive" : "positive"));
		}
		return duration;
	}

	/**
	 * How an idempotent Kafka listener's annotation names its container factory and batch
	 * mode, unresolved.
	 *
	 * @param listener the listener method's name
	 * @param containerFactory the {@code containerFactory} attribute, empty for the
	 * default factory
	 * @param batch the {@code batch} attribute, empty when the factory decides
	 */
	public record KafkaListenerDeclaration(String listener, String containerFactory, String batch) {

	}

	/**
	 * An idempotent RabbitMQ listener method, with the id, container factory, acknowledge
	 * mode and batch mode its annotation names, unresolved.
	 *
	 * @param listener the listener method's name
	 * @param id the {@code id} attribute, empty where Spring AMQP makes one up
	 * @param containerFactory the {@code containerFactory} attribute, empty for the
	 * default factory
	 * @param ackMode the {@code ackMode} attribute, empty when the factory decides
	 * @param batch the {@code batch} attribute, empty when the factory decides
	 * @param acknowledgedOnCompletion whether Spring AMQP acknowledges its messages once
	 * the future it returns completes, whatever its acknowledge mode
	 */
	public record RabbitListenerDeclaration(String listener, String id, String containerFactory, String ackMode,
			String batch, boolean acknowledgedOnCompletion) {

	}

}
