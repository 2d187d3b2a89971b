package io.github.idempotency.autoconfigure;

import io.github.idempotency.interceptor.IdempotencyLifecycle;
import io.github.idempotency.interceptor.IdempotentOperationSource;
import io.github.idempotency.messaging.IdempotentKafkaContainers;
import io.github.idempotency.messaging.KafkaRefusalTranslator;
import io.github.idempotency.messaging.RabbitInProgressRecoverer;
import io.github.idempotency.messaging.RabbitRefusalTranslator;

import org.springframework.amqp.rabbit.retry.MessageRecoverer;
import org.springframework.amqp.rabbit.retry.RejectAndDontRequeueRecoverer;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;

/**
 * Idempotent message listeners: what a duplicate still in progress, or a key reused with
 * another message, means to Kafka and to RabbitMQ. Each broker's part applies when its
 * Spring support is on the class path.
 *
 * @since 0.1.0
 */
@AutoConfiguration(after = IdempotencyAutoConfiguration.class,
		afterName = { "org.springframework.boot.autoconfigure.kafka.KafkaAutoConfiguration",
				"org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration" })
@ConditionalOnBean(IdempotencyLifecycle.class)
public class IdempotencyMessagingAutoConfiguration {

	/**
	 * Kafka: each listener container's error handler retries a record whose duplicate is
	 * in progress until it can be processed or replayed, and a listener whose future's
	 * work met a duplicate in progress is called again.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(KafkaListenerEndpointRegistry.class)
	@ConditionalOnBean(KafkaListenerEndpointRegistry.class)
	static class KafkaConfiguration {

		@Bean
		@ConditionalOnMissingBean
		IdempotentKafkaContainers idempotentKafkaContainers(ObjectProvider<KafkaListenerEndpointRegistry> registry,
				IdempotencyProperties properties) {
			return new IdempotentKafkaContainers(registry, properties.getInProgressRetryAfter(),
					properties.getStoreUnavailableRetryAfter());
		}

		@Bean
		@ConditionalOnMissingBean
		KafkaRefusalTranslator idempotencyKafkaRefusalTranslator(IdempotencyProperties properties) {
			return new KafkaRefusalTranslator(properties.getInProgressRetryAfter(),
					properties.getStoreUnavailableRetryAfter());
		}

		@Bean
		@ConditionalOnMissingBean
		static KafkaBatchFactoryCheck idempotencyKafkaBatchFactoryCheck(IdempotentOperationSource operations,
				ConfigurableListableBeanFactory beanFactory) {
			return new KafkaBatchFactoryCheck(operations, beanFactory);
		}

	}

	/**
	 * RabbitMQ: a message whose duplicate is in progress is requeued after a pause, and
	 * one whose key was reused is rejected.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(MessageRecoverer.class)
	static class RabbitConfiguration {

		@Bean
		@ConditionalOnMissingBean
		static RabbitListenerCheck idempotencyRabbitListenerCheck(IdempotentOperationSource operations,
				ConfigurableListableBeanFactory beanFactory) {
			return new RabbitListenerCheck(operations, beanFactory);
		}

		@Bean
		@ConditionalOnMissingBean
		RabbitRefusalTranslator idempotencyRabbitRefusalTranslator(IdempotencyProperties properties) {
			return new RabbitRefusalTranslator(properties.getInProgressRetryAfter(),
					properties.getStoreUnavailableRetryAfter());
		}

		// Spring Boot recovers a message whose listener retries ran out with this
		// recoverer, or rejects it without requeue where there is none.
		@Bean
		@ConditionalOnMissingBean(MessageRecoverer.class)
		RabbitInProgressRecoverer idempotencyRabbitMessageRecoverer() {
			return new RabbitInProgressRecoverer(new RejectAndDontRequeueRecoverer());
		}

		// The application's recoverer would republish or reject a message whose
		// duplicate is in progress, and so dead-letter or drop it.
		@Bean
		static BeanPostProcessor idempotencyRabbitMessageRecovererPostProcessor() {
			return new BeanPostProcessor() {
				@Override
				public Object postProcessAfterInitialization(Object bean, String beanName) {
					if (bean instanceof MessageRecoverer recoverer && !(bean instanceof RabbitInProgressRecoverer)) {
						return RabbitInProgressRecoverer.around(recoverer);
					}
					return bean;
				}
			};
		}

	}

}
