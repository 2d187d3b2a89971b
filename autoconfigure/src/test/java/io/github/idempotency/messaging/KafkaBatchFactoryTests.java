package io.github.idempotency.messaging;

import java.util.Map;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.autoconfigure.IdempotencyAutoConfiguration;
import io.github.idempotency.autoconfigure.IdempotencyMessagingAutoConfiguration;
import io.github.idempotency.test.BootLine;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.EnableKafka;
import org.springframework.kafka.annotation.KafkaListenerConfigurer;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An idempotent Kafka listener whose container factory, not its annotation, says it is
 * called with batches fails startup, as one whose annotation says so does. No broker is
 * needed: the containers never start.
 */
class KafkaBatchFactoryTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(
				AutoConfigurations.of(IdempotencyAutoConfiguration.class, IdempotencyMessagingAutoConfiguration.class,
						AopAutoConfiguration.class, BootLine.jacksonAutoConfiguration()))
		.withUserConfiguration(Factories.class);

	@Test
	void listenerOfABatchFactoryShouldFailStartupNamingIt() {
		this.runner.withBean(LedgerOfTheDefaultFactory.class)
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("LedgerOfTheDefaultFactory.book, a Kafka listener that is called with batches:"
						+ " the container factory 'kafkaListenerContainerFactory' calls it with batches"));
		this.runner.withBean(LedgerOfANamedFactory.class)
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("the container factory 'batchFactory' calls it with batches"));
		// An expression that gives the factory itself, as Spring Kafka allows.
		this.runner.withBean(LedgerOfAFactoryExpression.class)
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("LedgerOfAFactoryExpression.book, a Kafka listener that is called with batches:"
						+ " the container factory calls it"));
	}

	@Test
	void listenerWhoseBatchPlaceholderSaysSoShouldFailStartup() {
		this.runner.withBean(LedgerOfAPlaceholder.class)
			.withPropertyValues("ledger.batch=true")
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("LedgerOfAPlaceholder.book, a Kafka listener that is called with batches: its"
						+ " batch attribute says so"));
		this.runner.withBean(LedgerOfAPlaceholder.class)
			.withPropertyValues("ledger.batch=false")
			.run((context) -> assertThat(context).hasNotFailed());
	}

	@Test
	void listenerThatIsNotCalledWithBatchesShouldStart() {
		this.runner.withBean(LedgerOfARecordFactory.class)
			.withBean(LedgerOverridingItsFactory.class)
			.run((context) -> assertThat(context).hasNotFailed());
	}

	// A configurer may name another default factory than the bean of the default name.
	@Test
	void defaultFactoryShouldNotBeAssumedWhereAConfigurerMayNameAnother() {
		this.runner.withBean(LedgerOfTheDefaultFactory.class)
			.withBean(KafkaListenerConfigurer.class,
					() -> (registrar) -> registrar.setContainerFactoryBeanName("recordFactory"))
			.run((context) -> assertThat(context).hasNotFailed());
	}

	@Configuration(proxyBeanMethods = false)
	@EnableKafka
	static class Factories {

		@Bean
		ConcurrentKafkaListenerContainerFactory<String, String> kafkaListenerContainerFactory() {
			return factory(true);
		}

		@Bean
		ConcurrentKafkaListenerContainerFactory<String, String> batchFactory() {
			return factory(true);
		}

		@Bean
		ConcurrentKafkaListenerContainerFactory<String, String> recordFactory() {
			return factory(false);
		}

		private static ConcurrentKafkaListenerContainerFactory<String, String> factory(boolean batch) {
			ConcurrentKafkaListenerContainerFactory<String, String> factory = new ConcurrentKafkaListenerContainerFactory<>();
			factory.setConsumerFactory(new DefaultKafkaConsumerFactory<>(
					Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9", ConsumerConfig.GROUP_ID_CONFIG,
							"ledger", ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
							ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class)));
			factory.setBatchListener(batch);
			factory.setAutoStartup(false);
			return factory;
		}

	}

	public static class LedgerOfTheDefaultFactory {

		@KafkaListener(topics = "payments")
		@Idempotent(key = "#p0")
		public void book(String payment) {
		}

	}

	public static class LedgerOfANamedFactory {

		@KafkaListener(topics = "payments", containerFactory = "batchFactory")
		@Idempotent(key = "#p0")
		public void book(String payment) {
		}

	}

	public static class LedgerOfAFactoryExpression {

		@KafkaListener(topics = "payments", containerFactory = "#{@batchFactory}")
		@Idempotent(key = "#p0")
		public void book(String payment) {
		}

	}

	public static class LedgerOfAPlaceholder {

		@KafkaListener(topics = "payments", containerFactory = "recordFactory", batch = "${ledger.batch}")
		@Idempotent(key = "#p0")
		public void book(String payment) {
		}

	}

	public static class LedgerOfARecordFactory {

		@KafkaListener(topics = "payments", containerFactory = "recordFactory")
		@Idempotent(key = "#p0")
		public void book(String payment) {
		}

	}

	public static class LedgerOverridingItsFactory {

		@KafkaListener(topics = "payments", batch = "false")
		@Idempotent(key = "#p0")
		public void book(String payment) {
		}

	}

}
