package io.github.idempotency.sample;

import java.time.Duration;

import io.lettuce.core.RedisBusyException;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.RedisSystemException;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.stream.Consumer;
import org.springframework.data.redis.connection.stream.MapRecord;
import org.springframework.data.redis.connection.stream.ReadOffset;
import org.springframework.data.redis.connection.stream.StreamOffset;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.stream.StreamMessageListenerContainer;
import org.springframework.data.redis.stream.StreamMessageListenerContainer.StreamMessageListenerContainerOptions;
import org.springframework.data.redis.stream.StreamMessageListenerContainer.StreamReadRequest;
import org.springframework.data.redis.stream.Subscription;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.annotation.Scheduled;

/**
 * The ledger: captured payments go out as events on a Redis stream, and a consumer group
 * books them. Off in the jdbc profile, which runs without Redis.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(prefix = "sample.ledger", name = "enabled", matchIfMissing = true)
@EnableScheduling
class LedgerStreamConfiguration {

	private static final Log logger = LogFactory.getLog(LedgerStreamConfiguration.class);

	@Bean
	PaymentEvents paymentEvents(StringRedisTemplate redis, SampleProperties properties) {
		return new PaymentEvents(redis, properties.ledger().stream());
	}

	@Bean
	Bookkeeping bookkeeping(SampleProperties properties) {
		return new Bookkeeping(properties.ledger().bookingDelay());
	}

	@Bean
	LedgerConsumer ledgerConsumer(StringRedisTemplate redis, Bookkeeping bookkeeping, SampleProperties properties) {
		return new LedgerConsumer(redis, bookkeeping, properties.ledger());
	}

	// Started here: the container does not start with the application context of its own
	// accord. Stopped with the context, as a running Lifecycle.
	@Bean(initMethod = "start")
	StreamMessageListenerContainer<String, MapRecord<String, String, String>> ledgerContainer(
			RedisConnectionFactory connections, StringRedisTemplate redis, SampleProperties properties) {
		createGroup(redis, properties.ledger());
		return StreamMessageListenerContainer.create(connections,
				StreamMessageListenerContainerOptions.builder().pollTimeout(Duration.ofMillis(500)).build());
	}

	@Bean
	Subscription ledgerSubscription(StreamMessageListenerContainer<String, MapRecord<String, String, String>> container,
			LedgerConsumer consumer, SampleProperties properties) {
		SampleProperties.Ledger ledger = properties.ledger();
		// Acknowledged by the consumer once booked; and an event it failed to book must
		// not end the subscription, as it would by default.
		return container
			.register(StreamReadRequest.builder(StreamOffset.create(ledger.stream(), ReadOffset.lastConsumed()))
				.consumer(Consumer.from(ledger.group(), consumer.name()))
				.autoAcknowledge(false)
				.cancelOnError((failure) -> false)
				.errorHandler((failure) -> logger.warn("An event was not booked; it stays pending: " + failure))
				.build(), consumer);
	}

	@Bean
	Reclaim ledgerReclaim(LedgerConsumer consumer) {
		return new Reclaim(consumer);
	}

	// The group reads the stream from its start the first time; it already exists when
	// another instance, or an earlier run, made it.
	private static void createGroup(StringRedisTemplate redis, SampleProperties.Ledger ledger) {
		try {
			redis.opsForStream().createGroup(ledger.stream(), ReadOffset.from("0"), ledger.group());
		}
		catch (RedisSystemException ex) {
			if (!(ex.getCause() instanceof RedisBusyException)) {
				throw ex;
			}
		}
	}

	static class Reclaim {

		private final LedgerConsumer consumer;

		Reclaim(LedgerConsumer consumer) {
			this.consumer = consumer;
		}

		@Scheduled(fixedDelayString = "${sample.ledger.reclaim-interval:10s}")
		void run() {
			this.consumer.reclaim();
		}

	}

}
