package io.github.idempotency.messaging;

import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.listener.AcknowledgingMessageListener;
import org.springframework.kafka.listener.CommonContainerStoppingErrorHandler;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.ContainerProperties.AckMode;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.KafkaMessageListenerContainer;
import org.springframework.kafka.listener.MessageListener;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which handler each container gets, by how it commits offsets; what the handlers do with
 * records is in {@link KafkaListenerTests}. The containers never start.
 */
@ExtendWith(OutputCaptureExtension.class)
class IdempotentKafkaContainersTests {

	static final Duration PAUSE = Duration.ofMillis(100);

	@Test
	void containerThatCommitsOutOfOrderShouldRetryInMemoryWhateverItsDefaultErrorHandlerSays() {
		assertHandler(new DefaultErrorHandler(), true, (handler) -> assertThat(handler.seeksAfterHandling()).isFalse());
	}

	@Test
	void containerThatCommitsOutOfOrderWithoutAHandlerShouldRetryInMemory() {
		assertHandler(null, true, (handler) -> assertThat(handler.seeksAfterHandling()).isFalse());
	}

	// Async acks make Spring Kafka acknowledge by hand, whatever mode was set.
	@Test
	void containerWithAsyncAcksInAnyAcknowledgeModeShouldRetryInMemory() {
		assertHandler(new DefaultErrorHandler(), AckMode.BATCH, true,
				(handler) -> assertThat(handler.seeksAfterHandling()).isFalse());
	}

	@Test
	void containerThatCommitsInOrderShouldSeekAsItsHandlerDoes() {
		assertHandler(new DefaultErrorHandler(), false, (handler) -> assertThat(handler.seeksAfterHandling()).isTrue());
	}

	// A handler that seeks may handle no record in memory: it is left to seek, and the
	// application told what that does to such a container.
	@Test
	void containerThatCommitsOutOfOrderWithAHandlerThatOnlySeeksShouldBeReported(CapturedOutput output) {
		assertHandler(new CommonContainerStoppingErrorHandler(), true,
				(handler) -> assertThat(handler.seeksAfterHandling()).isTrue());
		assertThat(output).contains("Kafka listener container payments commits offsets out of order")
			.contains(CommonContainerStoppingErrorHandler.class.getName());
	}

	@Test
	void containerThatCommitsOutOfOrderWithAHandlerWrappedToSeekShouldBeReported(CapturedOutput output) {
		assertHandler(new IdempotentKafkaErrorHandler(new DefaultErrorHandler(), PAUSE, PAUSE), true,
				(handler) -> assertThat(handler.seeksAfterHandling()).isTrue());
		assertThat(output).contains("Kafka listener container payments commits offsets out of order")
			.contains("Construct it with outOfOrderCommits = true");
	}

	// The pause holds the consumer's thread: as long as the poll interval, the consumer
	// would leave its group on every attempt.
	// Set on the consumer factory (as spring.kafka.consumer.properties does), or on the
	// container's own consumer properties, which override it.
	@Test
	void containerThatMustPollMoreOftenThanAPauseLastsShouldBeReported(CapturedOutput output) {
		ContainerProperties properties = new ContainerProperties("payments");
		properties.setMessageListener((MessageListener<String, String>) (record) -> {
		});
		KafkaMessageListenerContainer<String, String> polledOften = new KafkaMessageListenerContainer<>(
				new DefaultKafkaConsumerFactory<>(Map.of(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 100),
						new StringDeserializer(), new StringDeserializer()),
				properties);
		polledOften.setBeanName("payments");
		polledOften.setAutoStartup(false);
		KafkaMessageListenerContainer<String, String> overridden = container(null, AckMode.BATCH, false);
		overridden.setBeanName("refunds");
		overridden.getContainerProperties()
			.getKafkaConsumerProperties()
			.setProperty(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "50");
		new ApplicationContextRunner().withBean(KafkaListenerEndpointRegistry.class)
			.withBean("payments", KafkaMessageListenerContainer.class, () -> polledOften)
			.withBean("refunds", KafkaMessageListenerContainer.class, () -> overridden)
			.withUserConfiguration(Handling.class)
			.run((context) -> assertThat(context).hasNotFailed());
		assertThat(output)
			.contains("Kafka listener container payments polls at least every 100 ms"
					+ " (max.poll.interval.ms), and a record refused for now")
			.contains("Kafka listener container refunds polls at least every 50 ms");
	}

	@Test
	void containerPolledAtKafkasDefaultIntervalShouldNotBeReported(CapturedOutput output) {
		assertHandler(new DefaultErrorHandler(), false, (handler) -> {
		});
		assertThat(output).doesNotContain("max.poll.interval.ms");
	}

	private static void assertHandler(@Nullable CommonErrorHandler application, boolean asyncAcks,
			Consumer<IdempotentKafkaErrorHandler> assertion) {
		assertHandler(application, AckMode.MANUAL, asyncAcks, assertion);
	}

	private static void assertHandler(@Nullable CommonErrorHandler application, AckMode mode, boolean asyncAcks,
			Consumer<IdempotentKafkaErrorHandler> assertion) {
		new ApplicationContextRunner().withBean(KafkaListenerEndpointRegistry.class)
			.withBean("payments", KafkaMessageListenerContainer.class, () -> container(application, mode, asyncAcks))
			.withUserConfiguration(Handling.class)
			.run((context) -> {
				CommonErrorHandler handler = context.getBean(KafkaMessageListenerContainer.class)
					.getCommonErrorHandler();
				assertThat(handler).isInstanceOf(IdempotentKafkaErrorHandler.class);
				assertion.accept((IdempotentKafkaErrorHandler) handler);
			});
	}

	@Configuration(proxyBeanMethods = false)
	static class Handling {

		@Bean
		IdempotentKafkaContainers idempotentKafkaContainers(ObjectProvider<KafkaListenerEndpointRegistry> registry) {
			return new IdempotentKafkaContainers(registry, PAUSE, PAUSE);
		}

	}

	private static KafkaMessageListenerContainer<String, String> container(@Nullable CommonErrorHandler handler,
			AckMode mode, boolean asyncAcks) {
		ContainerProperties properties = new ContainerProperties("payments");
		properties.setAckMode(mode);
		properties.setAsyncAcks(asyncAcks);
		properties.setMessageListener((AcknowledgingMessageListener<String, String>) (record, ack) -> {
		});
		KafkaMessageListenerContainer<String, String> container = new KafkaMessageListenerContainer<>(
				new DefaultKafkaConsumerFactory<>(Map.of(), new StringDeserializer(), new StringDeserializer()),
				properties);
		container.setBeanName("payments");
		container.setAutoStartup(false);
		container.setCommonErrorHandler(handler);
		return container;
	}

}
