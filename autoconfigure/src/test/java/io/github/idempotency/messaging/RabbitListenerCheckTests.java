package io.github.idempotency.messaging;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.autoconfigure.IdempotencyAutoConfiguration;
import io.github.idempotency.autoconfigure.IdempotencyMessagingAutoConfiguration;
import io.github.idempotency.test.BootLine;
import com.rabbitmq.stream.Environment;
import org.junit.jupiter.api.Test;

import org.springframework.amqp.core.AcknowledgeMode;
import org.springframework.amqp.rabbit.annotation.EnableRabbit;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.amqp.rabbit.annotation.RabbitListenerConfigurer;
import org.springframework.amqp.rabbit.config.SimpleRabbitListenerContainerFactory;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.rabbit.stream.config.StreamRabbitListenerContainerFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An idempotent RabbitMQ listener whose container factory, not its annotation, says its
 * code acknowledges the messages fails startup, as one whose annotation says so does: a
 * duplicate would never be acknowledged. So does one whose messages are acknowledged as
 * they are delivered, whose refusals could not be delivered again. No broker is needed:
 * the containers never start.
 */
class RabbitListenerCheckTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(
			AutoConfigurations.of(IdempotencyAutoConfiguration.class, IdempotencyMessagingAutoConfiguration.class,
					AopAutoConfiguration.class, BootLine.jacksonAutoConfiguration()));

	@Test
	void listenerOfAFactoryThatAcknowledgesManuallyShouldFailStartupNamingIt() {
		ApplicationContextRunner factories = this.runner.withUserConfiguration(Factories.class);
		factories.withBean(LedgerOfTheDefaultFactory.class)
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("LedgerOfTheDefaultFactory.book, a RabbitMQ listener whose messages its own code"
						+ " acknowledges: the container factory 'rabbitListenerContainerFactory' acknowledges"
						+ " manually"));
		factories.withBean(LedgerOfAFactoryExpression.class)
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("the container factory acknowledges manually"));
		factories.withBean(LedgerOfAnAutomaticFactory.class)
			.withBean(LedgerOverridingItsFactory.class)
			.run((context) -> assertThat(context).hasNotFailed());
	}

	// Spring AMQP acknowledges the message of one that returns a future itself, once
	// the future completes, and its container takes on the manual mode whatever it was
	// given.
	@Test
	void listenerReturningAFutureShouldPassWhateverItsAcknowledgeMode() {
		this.runner.withUserConfiguration(Factories.class)
			.withBean(LedgerAnsweringLater.class)
			.withPropertyValues("ledger.ack-mode=MANUAL")
			.run((context) -> assertThat(context).hasNotFailed());
	}

	@Test
	void listenerWhoseAckModePlaceholderSaysManualShouldFailStartup() {
		ApplicationContextRunner factories = this.runner.withUserConfiguration(Factories.class)
			.withBean(LedgerOfAPlaceholder.class);
		factories.withPropertyValues("ledger.ack-mode=MANUAL")
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("LedgerOfAPlaceholder.book, a RabbitMQ listener whose messages its own code"
						+ " acknowledges: its ackMode attribute says so"));
		factories.withPropertyValues("ledger.ack-mode=AUTO").run((context) -> assertThat(context).hasNotFailed());
	}

	// A message refused for now (its duplicate in progress, the store out of reach) is
	// requeued; acknowledged on delivery, it could not be, and would be lost.
	@Test
	void listenerWhoseMessagesAreAcknowledgedOnDeliveryShouldFailStartup() {
		ApplicationContextRunner factories = this.runner.withUserConfiguration(Factories.class);
		factories.withBean(LedgerOfAPlaceholder.class)
			.withPropertyValues("ledger.ack-mode=NONE")
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("LedgerOfAPlaceholder.book, a RabbitMQ listener whose messages are acknowledged"
						+ " as they are delivered: its ackMode attribute says so"));
		factories.withBean(LedgerOfAnUnacknowledgedFactory.class)
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("the container factory 'unacknowledgedFactory' takes each message as"
						+ " acknowledged once delivered"));
		this.runner.withConfiguration(AutoConfigurations.of(BootLine.rabbitAutoConfiguration()))
			.withUserConfiguration(EnableRabbitOnly.class)
			.withBean(LedgerOfTheDefaultFactory.class)
			.withPropertyValues("spring.rabbitmq.port=9", "spring.rabbitmq.listener.simple.auto-startup=false",
					"spring.rabbitmq.listener.simple.acknowledge-mode=none")
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("the container factory 'rabbitListenerContainerFactory' takes each message as"
						+ " acknowledged once delivered"));
	}

	// One key would stand for a batch whose messages change from one delivery to the
	// next.
	@Test
	void listenerCalledWithBatchesShouldFailStartup() {
		ApplicationContextRunner factories = this.runner.withUserConfiguration(Factories.class);
		factories.withBean(LedgerOfABatchingFactory.class)
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("LedgerOfABatchingFactory.book, a RabbitMQ listener that is called with batches:"
						+ " the container factory 'batchingFactory' calls it with batches"));
		factories.withBean(LedgerOfAConsumerBatchingFactory.class)
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("the container factory 'consumerBatchingFactory' calls it with batches"));
		factories.withBean(LedgerOfABatchPlaceholder.class)
			.withPropertyValues("ledger.batch=true")
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("LedgerOfABatchPlaceholder.book, a RabbitMQ listener that is called with"
						+ " batches: its batch attribute says so"));
		factories.withBean(LedgerOfABatchPlaceholder.class)
			.withPropertyValues("ledger.batch=false")
			.run((context) -> assertThat(context).hasNotFailed());
	}

	// A stream delivers each message once: one refused for now would be skipped for good.
	@Test
	void listenerOfAStreamShouldFailStartup() {
		this.runner.withUserConfiguration(EnableRabbitOnly.class)
			.withBean(LedgerOfTheDefaultFactory.class)
			.withBean("rabbitListenerContainerFactory", StreamRabbitListenerContainerFactory.class,
					() -> new StreamRabbitListenerContainerFactory(unconnected(Environment.class)))
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("LedgerOfTheDefaultFactory.book, a RabbitMQ stream listener: the container"
						+ " factory 'rabbitListenerContainerFactory' makes stream listeners"));
	}

	// Stands for a stream client that is never asked to connect: the containers never
	// start.
	private static <T> T unconnected(Class<T> type) {
		return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] { type },
				(proxy, method, arguments) -> switch (method.getName()) {
					case "hashCode" -> System.identityHashCode(proxy);
					case "equals" -> proxy == arguments[0];
					case "toString" -> type.getName();
					default -> method.getReturnType().isInterface() ? unconnected(method.getReturnType()) : null;
				}));
	}

	// A customizer may set a container by its listener's id: the check's container must
	// be made as the listener's is.
	@Test
	void factoryCustomizedForTheListenerByItsIdShouldBeCheckedAsCustomized() {
		this.runner.withUserConfiguration(EnableRabbitOnly.class)
			.withBean(LedgerWithAnId.class)
			.withBean("rabbitListenerContainerFactory", SimpleRabbitListenerContainerFactory.class, () -> {
				SimpleRabbitListenerContainerFactory factory = Factories.factory(AcknowledgeMode.NONE);
				factory.setContainerCustomizer((container) -> {
					if ("ledger".equals(container.getListenerId())) {
						container.setAcknowledgeMode(AcknowledgeMode.AUTO);
					}
				});
				return factory;
			})
			.run((context) -> assertThat(context).hasNotFailed());
	}

	// Spring Boot's own factory, set up from its properties.
	@Test
	void listenerOfSpringBootsFactoryShouldFailStartupWhenItsPropertySaysManual() {
		ApplicationContextRunner boot = this.runner
			.withConfiguration(AutoConfigurations.of(BootLine.rabbitAutoConfiguration()))
			.withUserConfiguration(EnableRabbitOnly.class)
			.withBean(LedgerOfTheDefaultFactory.class)
			.withPropertyValues("spring.rabbitmq.port=9", "spring.rabbitmq.listener.simple.auto-startup=false");
		boot.withPropertyValues("spring.rabbitmq.listener.simple.acknowledge-mode=manual")
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("the container factory 'rabbitListenerContainerFactory' acknowledges manually"));
		boot.run((context) -> assertThat(context).hasNotFailed());
	}

	// The container the check makes has no queues: a customizer that expects some must
	// not fail startup, which leaves the factory unchecked.
	@Test
	void factoryWhoseCustomizerFailsWithoutQueuesShouldLeaveTheListenerUnchecked() {
		this.runner.withUserConfiguration(EnableRabbitOnly.class)
			.withBean(LedgerOfTheDefaultFactory.class)
			.withBean("rabbitListenerContainerFactory", SimpleRabbitListenerContainerFactory.class, () -> {
				SimpleRabbitListenerContainerFactory factory = Factories.factory(AcknowledgeMode.AUTO);
				factory.setContainerCustomizer((container) -> {
					if (container.getQueueNames().length == 0) {
						throw new IllegalStateException("a container of no queue");
					}
				});
				return factory;
			})
			.run((context) -> assertThat(context).hasNotFailed());
	}

	// A configurer may name another default factory than the bean of the default name.
	@Test
	void defaultFactoryShouldNotBeAssumedWhereAConfigurerMayNameAnother() {
		this.runner.withUserConfiguration(Factories.class)
			.withBean(LedgerOfTheDefaultFactory.class)
			.withBean(RabbitListenerConfigurer.class,
					() -> (registrar) -> registrar.setContainerFactoryBeanName("automaticFactory"))
			.run((context) -> assertThat(context).hasNotFailed());
	}

	@Configuration(proxyBeanMethods = false)
	@EnableRabbit
	static class EnableRabbitOnly {

	}

	@Configuration(proxyBeanMethods = false)
	@EnableRabbit
	static class Factories {

		@Bean
		SimpleRabbitListenerContainerFactory rabbitListenerContainerFactory() {
			return factory(AcknowledgeMode.MANUAL);
		}

		@Bean
		SimpleRabbitListenerContainerFactory automaticFactory() {
			return factory(AcknowledgeMode.AUTO);
		}

		@Bean
		SimpleRabbitListenerContainerFactory unacknowledgedFactory() {
			return factory(AcknowledgeMode.NONE);
		}

		@Bean
		SimpleRabbitListenerContainerFactory batchingFactory() {
			SimpleRabbitListenerContainerFactory factory = factory(AcknowledgeMode.AUTO);
			factory.setBatchListener(true);
			return factory;
		}

		@Bean
		SimpleRabbitListenerContainerFactory consumerBatchingFactory() {
			SimpleRabbitListenerContainerFactory factory = factory(AcknowledgeMode.AUTO);
			factory.setConsumerBatchEnabled(true);
			return factory;
		}

		private static SimpleRabbitListenerContainerFactory factory(AcknowledgeMode mode) {
			SimpleRabbitListenerContainerFactory factory = new SimpleRabbitListenerContainerFactory();
			factory.setConnectionFactory(new CachingConnectionFactory("127.0.0.1", 9));
			factory.setAcknowledgeMode(mode);
			factory.setAutoStartup(false);
			return factory;
		}

	}

	public static class LedgerOfTheDefaultFactory {

		@RabbitListener(queues = "payments")
		@Idempotent(key = "#p0")
		public void book(String payment) {
		}

	}

	public static class LedgerAnsweringLater {

		@RabbitListener(queues = "payments")
		@Idempotent(key = "#p0")
		public CompletableFuture<String> book(String payment) {
			return CompletableFuture.completedFuture(payment);
		}

		@RabbitListener(queues = "refunds", containerFactory = "automaticFactory", ackMode = "${ledger.ack-mode}")
		@Idempotent(key = "#p0")
		public CompletableFuture<String> refund(String payment) {
			return CompletableFuture.completedFuture(payment);
		}

	}

	public static class LedgerOfAFactoryExpression {

		@RabbitListener(queues = "payments", containerFactory = "#{@rabbitListenerContainerFactory}")
		@Idempotent(key = "#p0")
		public void book(String payment) {
		}

	}

	public static class LedgerOfAPlaceholder {

		@RabbitListener(queues = "payments", containerFactory = "automaticFactory", ackMode = "${ledger.ack-mode}")
		@Idempotent(key = "#p0")
		public void book(String payment) {
		}

	}

	public static class LedgerOfAnUnacknowledgedFactory {

		@RabbitListener(queues = "payments", containerFactory = "unacknowledgedFactory")
		@Idempotent(key = "#p0")
		public void book(String payment) {
		}

	}

	public static class LedgerWithAnId {

		@RabbitListener(id = "${ledger.id:ledger}", queues = "payments")
		@Idempotent(key = "#p0")
		public void book(String payment) {
		}

	}

	public static class LedgerOfABatchingFactory {

		@RabbitListener(queues = "payments", containerFactory = "batchingFactory")
		@Idempotent(key = "#p0[0]")
		public void book(List<String> payments) {
		}

	}

	public static class LedgerOfAConsumerBatchingFactory {

		@RabbitListener(queues = "payments", containerFactory = "consumerBatchingFactory")
		@Idempotent(key = "#p0[0]")
		public void book(List<String> payments) {
		}

	}

	// Batches only when the placeholder says so; the factory would call it with one
	// message.
	public static class LedgerOfABatchPlaceholder {

		@RabbitListener(queues = "payments", containerFactory = "batchingFactory", batch = "${ledger.batch}")
		@Idempotent(key = "#p0[0]")
		public void book(List<String> payments) {
		}

	}

	public static class LedgerOfAnAutomaticFactory {

		@RabbitListener(queues = "payments", containerFactory = "automaticFactory")
		@Idempotent(key = "#p0")
		public void book(String payment) {
		}

	}

	public static class LedgerOverridingItsFactory {

		@RabbitListener(queues = "payments", ackMode = "AUTO")
		@Idempotent(key = "#p0")
		public void book(String payment) {
		}

	}

}
