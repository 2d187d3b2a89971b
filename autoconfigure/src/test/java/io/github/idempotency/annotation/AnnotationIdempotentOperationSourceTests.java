package io.github.idempotency.annotation;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Stream;

import javax.tools.ToolProvider;

import io.github.idempotency.annotation.Idempotent.Completion;
import io.github.idempotency.interceptor.IdempotentOperation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Headers;
import org.springframework.amqp.rabbit.annotation.Exchange;
import org.springframework.amqp.rabbit.annotation.Queue;
import org.springframework.amqp.rabbit.annotation.QueueBinding;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.data.redis.connection.stream.MapRecord;
import org.springframework.data.redis.stream.StreamListener;
import org.springframework.kafka.annotation.KafkaHandler;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.listener.adapter.ConsumerRecordMetadata;
import org.springframework.kafka.support.Acknowledgment;
import org.springframework.kafka.support.KafkaHeaders;
import org.springframework.messaging.Message;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.mock.env.MockEnvironment;
import org.springframework.util.ReflectionUtils;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.ModelAttribute;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.service.annotation.GetExchange;
import org.springframework.web.service.annotation.PostExchange;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

class AnnotationIdempotentOperationSourceTests {

	private final AnnotationIdempotentOperationSource source = new AnnotationIdempotentOperationSource(
			List.of("POST", "PATCH"));

	@Test
	void methodAnnotationShouldBeParsed() {
		IdempotentOperation operation = operation(Handlers.class, "configured");
		assertThat(operation.headerName()).isEqualTo("X-Request-Id");
		assertThat(operation.required()).isFalse();
		assertThat(operation.ttl()).isEqualTo(Duration.ofHours(1));
		assertThat(operation.lockTimeout()).isEqualTo(Duration.ofMinutes(2));
		assertThat(operation.name()).endsWith("Handlers.configured");
	}

	@Test
	void defaultsShouldBeLeftToConfiguration() {
		IdempotentOperation operation = operation(Handlers.class, "defaults");
		assertThat(operation.headerName()).isNull();
		assertThat(operation.keyExpression()).isNull();
		assertThat(operation.required()).isTrue();
		assertThat(operation.ttl()).isNull();
		assertThat(operation.lockTimeout()).isNull();
	}

	@Test
	void unannotatedMethodShouldHaveNoOperation() {
		assertThat(operation(Handlers.class, "plain")).isNull();
	}

	@Test
	void classAnnotationShouldCoverMethodsAndMethodAnnotationShouldWin() {
		assertThat(operation(ClassLevel.class, "inherited").ttl()).isEqualTo(Duration.ofMinutes(5));
		assertThat(operation(ClassLevel.class, "overridden").ttl()).isEqualTo(Duration.ofSeconds(10));
	}

	@Test
	void classAnnotationShouldCoverOnlyHandlersOfTheConfiguredRequestMethods() {
		assertThat(operation(ClassLevelWithReads.class, "create", String.class)).isNotNull();
		assertThat(operation(ClassLevelWithReads.class, "anyMethod", String.class)).isNotNull();
		assertThat(operation(ClassLevelWithReads.class, "readOrWrite", String.class)).isNotNull();
		// Its key names a variable it does not have, and it returns events: neither is
		// checked, since it is not covered.
		assertThat(operation(ClassLevelWithReads.class, "events")).isNull();
		assertThat(operation(ClassLevelWithReads.class, "replace", String.class)).isNull();
		AnnotationIdempotentOperationSource puts = new AnnotationIdempotentOperationSource(List.of("PUT"));
		assertThat(puts.getOperation(method(ClassLevelWithReads.class, "replace"), ClassLevelWithReads.class))
			.isNotNull();
		assertThat(puts.getOperation(method(ClassLevelWithReads.class, "create"), ClassLevelWithReads.class)).isNull();
		// Without the methods, every handler is covered: the interceptor filters them.
		assertThat(new AnnotationIdempotentOperationSource().getOperation(method(ClassLevelWithReads.class, "replace"),
				ClassLevelWithReads.class))
			.isNotNull();
		AnnotationIdempotentOperationSource heads = new AnnotationIdempotentOperationSource(List.of("HEAD"));
		assertThat(heads.getOperation(method(ClassLevelWithReads.class, "lookup"), ClassLevelWithReads.class))
			.isNotNull();
		assertThat(operation(ClassLevelWithReads.class, "lookup", String.class)).isNull();
	}

	@Test
	void classAnnotationShouldCoverExchangeMappedHandlers() {
		assertThat(operation(ExchangeMapped.class, "create")).isNotNull();
		assertThat(operation(ExchangeMapped.class, "read")).isNull();
	}

	@Test
	void requestMethodsOfTheClassMappingShouldJoinTheMethodsOwn() {
		assertThat(operation(WritesMappedOnTheClass.class, "read")).isNotNull();
		assertThat(operation(ReadsMappedOnTheClass.class, "read")).isNull();
	}

	@Test
	void classAnnotationShouldNotCoverMethodsThatAreNotHandlers() {
		assertThat(operation(ClassLevel.class, "model")).isNull();
		assertThat(operation(ClassLevel.class, "helper")).isNull();
	}

	@Test
	void headerNameWithKeyExpressionShouldFailNamingMethod() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "both"))
			.withMessageContaining("Invalid.both")
			.withMessageContaining("both headerName and key");
	}

	@Test
	void durationsShouldResolvePlaceholders() {
		MockEnvironment environment = new MockEnvironment().withProperty("payments.ttl", "2h");
		this.source.setEmbeddedValueResolver(environment::resolveRequiredPlaceholders);
		IdempotentOperation operation = operation(Placeholders.class, "resolved");
		assertThat(operation.ttl()).isEqualTo(Duration.ofHours(2));
		assertThat(operation.lockTimeout()).isEqualTo(Duration.ofSeconds(45));
		assertThatIllegalStateException().isThrownBy(() -> operation(Placeholders.class, "unresolved"))
			.withMessageContaining(
					"Placeholders.unresolved has waitTimeout '${payments.wait}', which cannot be resolved");
	}

	@Test
	void headerNameThatNoRequestCouldCarryShouldFailNamingMethod() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "spacedHeader"))
			.withMessageContaining("Invalid.spacedHeader")
			.withMessageContaining("'Idempotency Key', which is not a valid HTTP header name");
	}

	@Test
	void fingerprintOrFinalExceptionsOnAHandlerShouldFailNamingMethod() {
		assertThatIllegalStateException()
			.isThrownBy(() -> operation(Invalid.class, "handlerWithFingerprint", String.class))
			.withMessageContaining(
					"Invalid.handlerWithFingerprint sets fingerprint, which applies outside web handlers");
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "handlerWithFinalExceptions"))
			.withMessageContaining(
					"Invalid.handlerWithFinalExceptions sets finalExceptions, which applies outside web handlers");
	}

	@Test
	void unparsableKeyExpressionShouldFail() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "badExpression"))
			.withMessageContaining("does not parse");
	}

	@Test
	void keyExpressionNamingAnUnknownParameterShouldFailNamingMethodAndExpression() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "unknownParameter", String.class))
			.withMessageContaining("Invalid.unknownParameter")
			.withMessageContaining("#request.length()")
			.withMessageContaining("#req");
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "positionPastTheEnd", String.class))
			.withMessageContaining("#p1");
	}

	@Test
	void keyExpressionNamingParametersByNameOrPositionShouldBeAccepted() {
		assertThat(operation(Handlers.class, "byName", String.class).keyExpression()).isEqualTo("#req + #p0 + #a0");
		assertThat(operation(Handlers.class, "byRoot", String.class).keyExpression()).isEqualTo("#root[0]");
	}

	@Test
	void methodOutsideWebHandlerWithoutKeyExpressionShouldFailNamingMethod() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "noKey"))
			.withMessageContaining("Invalid.noKey has no key expression");
	}

	@Test
	void returnTypeThatCannotBeReadBackShouldFailNamingMethod() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "anything", String.class))
			.withMessageContaining("Invalid.anything returns java.lang.Object");
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "abstractElements", String.class))
			.withMessageContaining("java.lang.Runnable is abstract");
	}

	// A replay returns a CompletableFuture, which the proxy could not hand back as
	// another
	// kind of future.
	@Test
	void futureOfAnotherTypeThanCompletableFutureShouldFailNamingMethod() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "ownFuture", String.class))
			.withMessageContaining("Invalid.ownFuture returns " + OwnFuture.class.getName());
		assertThat(operation(Handlers.class, "stage", String.class)).isNotNull();
	}

	// Its work would run when subscribed or consumed, after the claim was completed with
	// the publisher itself, and again for each subscriber.
	@Test
	void publisherOrStreamShouldFailNamingMethod() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "mono", String.class))
			.withMessageContaining(
					"Invalid.mono returns reactor.core.publisher.Mono, whose work runs when it is" + " consumed");
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "stream", String.class))
			.withMessageContaining("Invalid.stream returns java.util.stream.Stream");
	}

	@Test
	void fingerprintExpressionNamingAnUnknownParameterShouldFail() {
		assertThatIllegalStateException()
			.isThrownBy(() -> operation(Invalid.class, "unknownFingerprintParameter", String.class))
			.withMessageContaining("fingerprint expression '#amount'");
	}

	// Without the names in the class file no call defines #amount: every fingerprint
	// would be the same, and a reused key with another amount would be replayed.
	@Test
	void expressionNamingAParameterOfAClassWithoutParameterNamesShouldFail(@TempDir Path classes) throws Exception {
		Path source = classes.resolve("Unnamed.java");
		Files.writeString(source, """
				import io.github.idempotency.annotation.Idempotent;

				public class Unnamed {
					@Idempotent(key = "#p0", fingerprint = "#amount")
					public void byName(String reference, long amount) {
					}

					@Idempotent(key = "#p0", fingerprint = "#a1")
					public void byPosition(String reference, long amount) {
					}
				}
				""");
		String annotations = Path.of(Idempotent.class.getProtectionDomain().getCodeSource().getLocation().toURI())
			.toString();
		int status = ToolProvider.getSystemJavaCompiler()
			.run(null, null, null, "-proc:none", "-classpath", annotations, "-d", classes.toString(),
					source.toString());
		assertThat(status).isZero();
		try (URLClassLoader loader = new URLClassLoader(new URL[] { classes.toUri().toURL() },
				getClass().getClassLoader())) {
			Class<?> unnamed = loader.loadClass("Unnamed");
			assertThatIllegalStateException()
				.isThrownBy(
						() -> this.source.getOperation(unnamed.getMethod("byName", String.class, long.class), unnamed))
				.withMessageContaining("fingerprint expression '#amount'")
				.withMessageContaining("compiled without parameter names");
			assertThat(this.source.getOperation(unnamed.getMethod("byPosition", String.class, long.class), unnamed))
				.isNotNull();
		}
	}

	@Test
	void finalExceptionThatCannotBeMadeAgainShouldFail() {
		assertThatIllegalStateException()
			.isThrownBy(() -> operation(Invalid.class, "finalExceptionWithoutConstructor", String.class))
			.withMessageContaining("NoUsableConstructor among its final exceptions");
	}

	@Test
	void methodOutsideWebHandlerShouldCarryItsSettings() {
		IdempotentOperation operation = operation(Handlers.class, "byName", String.class);
		assertThat(operation.handler()).isFalse();
		assertThat(operation(Handlers.class, "configured").handler()).isTrue();
		assertThat(operation.waitTimeout()).isZero();
	}

	@Test
	void completionShouldBeCarriedForMethodsAndRefusedForWebHandlers() {
		assertThat(operation(Handlers.class, "afterCommit", String.class).completion())
			.isEqualTo(IdempotentOperation.Completion.AFTER_COMMIT);
		assertThat(operation(Handlers.class, "onReturn", String.class).completion())
			.isEqualTo(IdempotentOperation.Completion.ON_RETURN);
		assertThat(operation(Handlers.class, "byName", String.class).completion()).isNull();
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "handlerWithCompletion"))
			.withMessageContaining("sets completion, which applies outside web handlers only");
	}

	@Test
	void classAnnotationOnBeanThatIsNotControllerShouldFail() {
		assertThatIllegalStateException().isThrownBy(() -> operation(ServiceLevel.class, "book", String.class))
			.withMessageContaining("which is not a controller");
	}

	@Test
	void classAnnotationOnMappedClassWithoutControllerStereotypeShouldCoverItsMappings() {
		assertThat(operation(MappedWithoutController.class, "create").handler()).isTrue();
	}

	@Test
	void httpInterfaceMethodShouldCountAsWebHandler() {
		assertThat(operation(HttpClientInterface.class, "send").handler()).isTrue();
	}

	@Test
	void methodProxyCannotInterceptShouldFail() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Sealed.class, "plain", String.class))
			.withMessageContaining("private, final or static");
	}

	@Test
	void controllerMethodCalledByAnotherFrameworkShouldNeedKey() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Scheduling.class, "everyMinute"))
			.withMessageContaining("has no key expression");
	}

	@Test
	void nonPositiveDurationShouldFail() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "zeroTtl", String.class))
			.withMessageContaining("must be positive");
	}

	@Test
	void durationWithoutUnitShouldFail() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "ttlInSeconds", String.class))
			.withMessageContaining("has ttl '86400', a number without a unit; write the unit, such as '86400s'");
	}

	// Shorter, the lease could lapse between renewals; longer, counting it in nanoseconds
	// would overflow.
	@Test
	void lockTimeoutOutOfRangeAndWaitTooLongShouldFail() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "instantLockTimeout", String.class))
			.withMessageContaining("has lockTimeout PT0.1S; it must be between PT0.2S and PT8760H");
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "endlessLockTimeout", String.class))
			.withMessageContaining("has lockTimeout PT9600H; it must be between");
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "endlessWait", String.class))
			.withMessageContaining("has waitTimeout PT9600H; it must be at most PT8760H");
		assertThatIllegalStateException().isThrownBy(() -> operation(Invalid.class, "endlessTtl", String.class))
			.withMessageContaining("has ttl PT960000H; it must be at most PT876000H");
	}

	@Test
	void kafkaListenerShouldBeScopedByItsConsumerGroupAndFingerprintedByItsPayload() {
		this.source.setEmbeddedValueResolver((value) -> value.replace("${ledger.group}", "ledger-eu")
			.replace("${spring.kafka.consumer.group-id:}", ""));
		IdempotentOperation byGroup = operation(Listeners.class, "byGroup", String.class, String.class, long.class);
		assertThat(byGroup.consumer()).isEqualTo("kafka group ledger-eu");
		assertThat(byGroup.fingerprintExpression()).isEqualTo("#p0");
		IdempotentOperation byId = operation(Listeners.class, "byId", ConsumerRecord.class);
		assertThat(byId.consumer()).isEqualTo("kafka group ledger-listener");
		assertThat(byId.fingerprintExpression()).isEqualTo("#p0.value()");
		assertThat(operation(Listeners.class, "withMetadata", ConsumerRecord.class, ConsumerRecordMetadata.class,
				Headers.class)
			.fingerprintExpression()).isEqualTo("#p0.value()");
		assertThat(operation(Listeners.class, "unnamed", Message.class).consumer()).isNull();
		assertThat(operation(Listeners.class, "unnamed", Message.class).fingerprintExpression())
			.isEqualTo("#p0.payload");
	}

	// Spring Data Redis's container acknowledges nothing itself: a duplicate, which does
	// not run onMessage, would leave its entry pending, and an entry refused for now is
	// lost by a read that acknowledges on delivery.
	@Test
	void redisStreamListenerShouldFailNamingTheMethodToAnnotateInstead() {
		assertThatIllegalStateException().isThrownBy(() -> operation(LedgerStream.class, "onMessage", MapRecord.class))
			.withMessageContaining("LedgerStream.onMessage, a Redis stream listener")
			.withMessageContaining("Put @Idempotent on the method onMessage calls");
	}

	@Test
	void rabbitListenerShouldBeScopedByItsIdElseItsQueues() {
		IdempotentOperation byQueues = operation(Listeners.class, "byQueues", String.class, String.class);
		assertThat(byQueues.consumer()).isEqualTo("rabbit queues payments,refunds");
		assertThat(byQueues.fingerprintExpression()).isEqualTo("#p0");
		assertThat(operation(Listeners.class, "rabbitById", org.springframework.amqp.core.Message.class).consumer())
			.isEqualTo("rabbit listener ledger");
		assertThat(operation(Listeners.class, "rabbitById", org.springframework.amqp.core.Message.class)
			.fingerprintExpression()).isEqualTo("#p0.body");
	}

	@Test
	void listenerForSeveralConsumersShouldFailAsItCannotTellThemApart() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Listeners.class, "twoGroups", String.class))
			.withMessageContaining("listens for several consumers");
		assertThatIllegalStateException().isThrownBy(() -> operation(TwoGroupsOfHandlers.class, "handle", String.class))
			.withMessageContaining("listens for several consumers");
		// An override's own listener replaces the one it overrides, as Spring Kafka reads
		// it.
		assertThat(operation(OverridingListener.class, "byGroup", String.class, String.class, long.class).consumer())
			.isEqualTo("kafka group audit");
	}

	// A service deploying the same listener class on a queue of its own is another
	// consumer, however it declares that queue.
	@Test
	void rabbitListenerShouldBeScopedByTheQueuesItDeclaresToo() {
		this.source.setEmbeddedValueResolver((value) -> value.replace("${ledger.group}", "ledger-eu"));
		assertThat(operation(Listeners.class, "declared", String.class, String.class).consumer())
			.isEqualTo("rabbit queues ledger-eu.audit,payments,refunds");
	}

	@Test
	void rabbitListenerOnAnAnonymousQueueShouldFailAsEachInstanceGetsEveryMessage() {
		assertThatIllegalStateException()
			.isThrownBy(() -> operation(Listeners.class, "anonymous", String.class, String.class))
			.withMessageContaining("anonymous queue");
		assertThatIllegalStateException()
			.isThrownBy(() -> operation(Listeners.class, "anonymouslyDeclared", String.class, String.class))
			.withMessageContaining("anonymous queue");
		assertThat(operation(Listeners.class, "anonymousButScoped", String.class, String.class).scope())
			.isEqualTo("cache");
		this.source.setEmbeddedValueResolver((value) -> value.replace("${HOSTNAME}", "host-7"));
		assertThat(operation(Listeners.class, "perInstance", String.class, String.class).consumer())
			.isEqualTo("rabbit queues evictions-host-7");
	}

	// What differs between two deliveries cannot tell them apart, nor can what cannot be
	// written as JSON (a Consumer, a Channel).
	@Test
	void listenerWithoutPayloadShouldBeFingerprintedByItsKeyAlone() {
		assertThat(operation(Listeners.class, "headersOnly", String.class, ConsumerRecordMetadata.class)
			.fingerprintExpression()).isEqualTo("''");
	}

	@Test
	void namedScopeOrFingerprintShouldWinOverTheListenersOwn() {
		IdempotentOperation named = operation(Listeners.class, "named", String.class);
		assertThat(named.consumer()).isNull();
		assertThat(named.fingerprintExpression()).isEqualTo("#p0.length()");
	}

	@Test
	void listenerThatAcknowledgesItselfShouldFailAsItWouldNeverAcknowledgeADuplicate() {
		assertThatIllegalStateException()
			.isThrownBy(() -> operation(BatchListeners.class, "manualKafka", String.class, Acknowledgment.class))
			.withMessageContaining("acknowledges its messages itself");
		assertThatIllegalStateException()
			.isThrownBy(() -> operation(BatchListeners.class, "manualRabbit", String.class))
			.withMessageContaining("acknowledges its messages itself");
		// Spring AMQP acknowledges it as the future completes.
		assertThat(operation(BatchListeners.class, "manualRabbitAnsweringLater", String.class)).isNotNull();
	}

	@Test
	void kafkaBatchListenerShouldFailNamingTheWayToProcessEachRecord() {
		assertThatIllegalStateException().isThrownBy(() -> operation(BatchListeners.class, "byAttribute", List.class))
			.withMessageContaining("Kafka batch listener")
			.withMessageContaining("KafkaBatch.forEachRecord");
		assertThatIllegalStateException().isThrownBy(() -> operation(BatchListeners.class, "byRecords", List.class));
	}

	@Test
	void rabbitBatchListenerShouldFail() {
		assertThatIllegalStateException()
			.isThrownBy(() -> operation(BatchListeners.class, "rabbitByAttribute", List.class))
			.withMessageContaining("a RabbitMQ batch listener");
		assertThatIllegalStateException()
			.isThrownBy(() -> operation(BatchListeners.class, "rabbitByMessages", List.class))
			.withMessageContaining("a RabbitMQ batch listener");
		// A list of payloads may be one message's: its factory decides, once it exists.
		assertThat(operation(BatchListeners.class, "rabbitPayloads", List.class)).isNotNull();
	}

	@Test
	void methodThatIsNotAListenerShouldHaveNoConsumer() {
		assertThat(operation(Handlers.class, "afterCommit", String.class).consumer()).isNull();
		assertThat(operation(Handlers.class, "afterCommit", String.class).fingerprintExpression()).isNull();
	}

	private static Method method(Class<?> type, String name) {
		return ReflectionUtils.findMethod(type, name, (Class<?>[]) null);
	}

	private IdempotentOperation operation(Class<?> type, String name, Class<?>... parameterTypes) {
		Method method = ReflectionUtils.findMethod(type, name, parameterTypes);
		return this.source.getOperation(method, type);
	}

	static class LedgerStream implements StreamListener<String, MapRecord<String, String, String>> {

		@Override
		@Idempotent(key = "#p0.value['id']")
		public void onMessage(MapRecord<String, String, String> record) {
		}

	}

	static class BatchListeners {

		@KafkaListener(topics = "payments")
		@Idempotent(key = "#p0")
		public void manualKafka(String event, Acknowledgment acknowledgment) {
		}

		@RabbitListener(queues = "payments", ackMode = "MANUAL")
		@Idempotent(key = "#p0")
		public void manualRabbit(String event) {
		}

		@RabbitListener(queues = "payments", ackMode = "MANUAL")
		@Idempotent(key = "#p0")
		public CompletableFuture<String> manualRabbitAnsweringLater(String event) {
			return CompletableFuture.completedFuture(event);
		}

		@KafkaListener(topics = "payments", batch = "true")
		@Idempotent(key = "#p0[0]")
		public void byAttribute(List<String> events) {
		}

		@KafkaListener(topics = "payments")
		@Idempotent(key = "#p0[0].key()")
		public void byRecords(List<ConsumerRecord<String, String>> records) {
		}

		@RabbitListener(queues = "payments", batch = "true")
		@Idempotent(key = "#p0[0]")
		public void rabbitByAttribute(List<String> events) {
		}

		@RabbitListener(queues = "payments")
		@Idempotent(key = "#p0[0].messageProperties.messageId")
		public void rabbitByMessages(List<org.springframework.amqp.core.Message> messages) {
		}

		@RabbitListener(queues = "payments")
		@Idempotent(key = "#p0[0]")
		public void rabbitPayloads(List<String> events) {
		}

	}

	@KafkaListener(groupId = "ledger", topics = "payments")
	@KafkaListener(groupId = "audit", topics = "payments")
	static class TwoGroupsOfHandlers {

		@KafkaHandler
		@Idempotent(key = "#p0")
		public void handle(String event) {
		}

	}

	static class OverridingListener extends Listeners {

		@Override
		@KafkaListener(topics = "payments", groupId = "audit")
		@Idempotent(key = "#id")
		public void byGroup(String event, @Header("id") String id, @Header(KafkaHeaders.OFFSET) long offset) {
		}

	}

	static class Listeners {

		@KafkaListener(topics = "payments", groupId = "${ledger.group}")
		@Idempotent(key = "#id")
		public void byGroup(String event, @Header("id") String id, @Header(KafkaHeaders.OFFSET) long offset) {
		}

		@KafkaListener(id = "ledger-listener", topics = "payments")
		@Idempotent(key = "#p0.key()")
		public void byId(ConsumerRecord<String, String> record) {
		}

		@KafkaListener(topics = "payments")
		@Idempotent(key = "#p0.headers['id']")
		public void unnamed(Message<String> message) {
		}

		@RabbitListener(queues = { "refunds", "payments" })
		@Idempotent(key = "#id")
		public void byQueues(String event, @Header("id") String id) {
		}

		@KafkaListener(id = "metadata", topics = "payments")
		@Idempotent(key = "#p0.key()")
		public void withMetadata(ConsumerRecord<String, String> record, ConsumerRecordMetadata metadata,
				Headers headers) {
		}

		@KafkaListener(groupId = "ledger", topics = "payments")
		@KafkaListener(groupId = "audit", topics = "payments")
		@Idempotent(key = "#p0")
		public void twoGroups(String event) {
		}

		@RabbitListener(id = "ledger", queues = "payments")
		@Idempotent(key = "#p0.messageProperties.messageId")
		public void rabbitById(org.springframework.amqp.core.Message message) {
		}

		@RabbitListener(queues = "payments")
		@Idempotent(key = "#p0", scope = "bookings", fingerprint = "#p0.length()")
		public void named(String event) {
		}

		@RabbitListener(queues = "payments",
				bindings = @QueueBinding(value = @Queue("${ledger.group}.audit"), exchange = @Exchange("events")),
				queuesToDeclare = @Queue(name = "refunds"))
		@Idempotent(key = "#id")
		public void declared(String event, @Header("id") String id) {
		}

		@RabbitListener(id = "cache", bindings = @QueueBinding(value = @Queue, exchange = @Exchange("events")))
		@Idempotent(key = "#id")
		public void anonymous(String event, @Header("id") String id) {
		}

		@RabbitListener(queuesToDeclare = @Queue)
		@Idempotent(key = "#id")
		public void anonymouslyDeclared(String event, @Header("id") String id) {
		}

		@RabbitListener(
				bindings = @QueueBinding(value = @Queue("evictions-${HOSTNAME}"), exchange = @Exchange("events")))
		@Idempotent(key = "#id")
		public void perInstance(String event, @Header("id") String id) {
		}

		@RabbitListener(bindings = @QueueBinding(value = @Queue, exchange = @Exchange("events")))
		@Idempotent(key = "#id", scope = "cache")
		public void anonymousButScoped(String event, @Header("id") String id) {
		}

		@KafkaListener(id = "evictions", topics = "evictions")
		@Idempotent(key = "#id")
		public void headersOnly(@Header(KafkaHeaders.RECEIVED_KEY) String id, ConsumerRecordMetadata metadata) {
		}

	}

	static class Handlers {

		@Idempotent(key = "#p0", completion = Completion.AFTER_COMMIT)
		void afterCommit(String reference) {
		}

		@Idempotent(key = "#p0", completion = Completion.ON_RETURN)
		void onReturn(String reference) {
		}

		@PostMapping
		@Idempotent(headerName = "X-Request-Id", required = false, ttl = "1h", lockTimeout = "PT2M")
		void configured() {
		}

		@PostMapping
		@Idempotent
		void defaults() {
		}

		@Idempotent(key = "#req + #p0 + #a0", waitTimeout = "0s")
		void byName(String req) {
		}

		@Idempotent(key = "#root[0]")
		void byRoot(String req) {
		}

		@Idempotent(key = "#p0")
		CompletionStage<String> stage(String reference) {
			return CompletableFuture.completedFuture(reference);
		}

		void plain() {
		}

	}

	@org.springframework.web.bind.annotation.RestController
	@Idempotent(ttl = "5m")
	static class ClassLevel {

		@PostMapping
		void inherited() {
		}

		@PostMapping
		@Idempotent(ttl = "10s")
		void overridden() {
		}

		@ModelAttribute
		void model() {
		}

		void helper() {
		}

	}

	@org.springframework.web.bind.annotation.RestController
	@Idempotent(key = "#order")
	static class ClassLevelWithReads {

		@PostMapping
		void create(String order) {
		}

		@RequestMapping("/any")
		void anyMethod(String order) {
		}

		@RequestMapping(path = "/either", method = { RequestMethod.GET, RequestMethod.POST })
		void readOrWrite(String order) {
		}

		@GetMapping("/events")
		SseEmitter events() {
			return new SseEmitter();
		}

		@PutMapping("/replace")
		void replace(String order) {
		}

		@GetMapping("/lookup")
		void lookup(String order) {
		}

	}

	@org.springframework.web.bind.annotation.RestController
	@Idempotent
	static class ExchangeMapped {

		@PostExchange("/exchanges")
		void create() {
		}

		@GetExchange("/exchanges")
		void read() {
		}

	}

	@org.springframework.web.bind.annotation.RestController
	@RequestMapping(path = "/writes", method = RequestMethod.POST)
	@Idempotent
	static class WritesMappedOnTheClass {

		@GetMapping
		void read() {
		}

	}

	@org.springframework.web.bind.annotation.RestController
	@RequestMapping(path = "/reads", method = RequestMethod.GET)
	@Idempotent
	static class ReadsMappedOnTheClass {

		@RequestMapping
		void read() {
		}

	}

	static class Placeholders {

		@PostMapping("/resolved")
		@Idempotent(ttl = "${payments.ttl}", lockTimeout = "${payments.lock:45s}")
		void resolved() {
		}

		@PostMapping("/unresolved")
		@Idempotent(waitTimeout = "${payments.wait}")
		void unresolved() {
		}

	}

	static class Invalid {

		@PostMapping("/completion")
		@Idempotent(completion = Completion.IN_TRANSACTION)
		void handlerWithCompletion() {
		}

		@PostMapping("/fingerprint")
		@Idempotent(fingerprint = "#p0")
		void handlerWithFingerprint(String order) {
		}

		@PostMapping("/final-exceptions")
		@Idempotent(finalExceptions = IllegalArgumentException.class)
		void handlerWithFinalExceptions() {
		}

		@PostMapping("/spaced-header")
		@Idempotent(headerName = "Idempotency Key")
		void spacedHeader() {
		}

		@Idempotent
		void noKey() {
		}

		@Idempotent(key = "#p0")
		Object anything(String reference) {
			return reference;
		}

		@Idempotent(key = "#p0")
		List<Runnable> abstractElements(String reference) {
			return List.of();
		}

		@Idempotent(key = "#reference")
		Mono<String> mono(String reference) {
			return Mono.just(reference);
		}

		@Idempotent(key = "#reference")
		Stream<String> stream(String reference) {
			return Stream.of(reference);
		}

		@Idempotent(key = "#p0")
		OwnFuture ownFuture(String reference) {
			return new OwnFuture();
		}

		@Idempotent(key = "#p0", fingerprint = "#amount")
		void unknownFingerprintParameter(String reference) {
		}

		@Idempotent(key = "#p0", finalExceptions = NoUsableConstructor.class)
		void finalExceptionWithoutConstructor(String reference) {
		}

		@Idempotent(headerName = "X-Id", key = "#order.id")
		void both() {
		}

		@Idempotent(key = "#order.(")
		void badExpression() {
		}

		@Idempotent(key = "#p0", ttl = "0s")
		void zeroTtl(String reference) {
		}

		@Idempotent(key = "#p0", ttl = "86400")
		void ttlInSeconds(String reference) {
		}

		@Idempotent(key = "#p0", lockTimeout = "100ms")
		void instantLockTimeout(String reference) {
		}

		@Idempotent(key = "#p0", lockTimeout = "400d")
		void endlessLockTimeout(String reference) {
		}

		@Idempotent(key = "#p0", waitTimeout = "400d")
		void endlessWait(String reference) {
		}

		@Idempotent(key = "#p0", ttl = "40000d")
		void endlessTtl(String reference) {
		}

		@Idempotent(key = "#request.length()")
		void unknownParameter(String req) {
		}

		@Idempotent(key = "#p1")
		void positionPastTheEnd(String req) {
		}

	}

	static class NoUsableConstructor extends RuntimeException {

		NoUsableConstructor(int code) {
			super("code " + code);
		}

	}

	@Idempotent
	static class MappedWithoutController {

		@PostMapping
		void create() {
		}

	}

	interface HttpClientInterface {

		@org.springframework.web.service.annotation.PostExchange("/payments")
		@Idempotent
		void send();

	}

	static class Sealed {

		@Idempotent(key = "#p0")
		void plain(String reference) {
		}

		// Never offered to a proxy: read when any method of the class is.
		@Idempotent(key = "#p0")
		final void sealedOff(String reference) {
		}

	}

	@Idempotent
	static class ServiceLevel {

		void book(String reference) {
		}

	}

	@org.springframework.stereotype.Controller
	static class Scheduling {

		@org.springframework.scheduling.annotation.Scheduled(fixedDelay = 60000)
		@Idempotent
		void everyMinute() {
		}

	}

	static class OwnFuture extends CompletableFuture<String> {

	}

}
