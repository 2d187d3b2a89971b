package io.github.idempotency.autoconfigure;

import io.github.idempotency.interceptor.IdempotencyLifecycle;
import io.github.idempotency.messaging.KafkaErrorHandlerConfigurer;
import io.github.idempotency.messaging.RabbitInProgressRecoverer;
import io.github.idempotency.messaging.RabbitRefusalTranslator;

import org.springframework.amqp.rabbit.retry.MessageRecoverer;
import org.springframework.amqp.rabbit.retry.RejectAndDontRequeueRecoverer;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.DefaultErrorHandler;

/**
 * Idempotent message listeners: what a duplicate still in progress, or a key reused with
 * another message, means to Kafka and to RabbitMQ. Each broker's part applies when its
 * Spring support is on the class path.
 *
 * @since 0.1.0
 */
@AutoConfiguration(after = IdempotencyAutoConfiguration.class)
@ConditionalOnBean(IdempotencyLifecycle.class)
public class IdempotencyMessagingAutoConfiguration {

	/**
	 * Kafka: the listener container's error handler retries a record whose duplicate is
	 * in progress until it can be processed or replayed.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(DefaultErrorHandler.class)
	static class KafkaConfiguration {

		@Bean
		@ConditionalOnMissingBean
		KafkaErrorHandlerConfigurer idempotencyKafkaErrorHandlerConfigurer(IdempotencyProperties properties) {
			return new KafkaErrorHandlerConfigurer(properties.getInProgressRetryAfter(),
					properties.getStoreUnavailableRetryAfter());
		}

		// The handler Spring Boot's listener container factory would make for itself, as
		// a bean, so that it is configured like the application's own.
		@Bean
		@ConditionalOnMissingBean(CommonErrorHandler.class)
		DefaultErrorHandler idempotencyKafkaErrorHandler() {
			return new DefaultErrorHandler();
		}

		@Bean
		static BeanPostProcessor idempotencyKafkaErrorHandlerPostProcessor(
				ObjectProvider<KafkaErrorHandlerConfigurer> configurer) {
			return new BeanPostProcessor() {
				@Override
				public Object postProcessBeforeInitialization(Object bean, String beanName) {
					if (bean instanceof DefaultErrorHandler handler) {
						configurer.ifAvailable((available) -> available.configure(handler));
					}
					return bean;
				}
			};
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

	}

}
