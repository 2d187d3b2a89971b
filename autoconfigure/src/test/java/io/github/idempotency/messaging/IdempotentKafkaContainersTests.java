package io.github.idempotency.messaging;

import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;

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
