package io.github.idempotency.messaging;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.listener.RecordInterceptor;

/**
 * Counts how each delivery of a record ended, by the record's key: a bean that Spring
 * Boot gives to its listener containers.
 */
class KafkaDeliveries implements RecordInterceptor<Object, Object> {

	private final Map<Object, AtomicInteger> processed = new ConcurrentHashMap<>();

	private final Map<Object, AtomicInteger> failures = new ConcurrentHashMap<>();

	@Override
	public @Nullable ConsumerRecord<Object, Object> intercept(ConsumerRecord<Object, Object> record,
			Consumer<Object, Object> consumer) {
		return record;
	}

	@Override
	public void success(ConsumerRecord<Object, Object> record, Consumer<Object, Object> consumer) {
		this.processed.computeIfAbsent(record.key(), (key) -> new AtomicInteger()).incrementAndGet();
	}

	@Override
	public void failure(ConsumerRecord<Object, Object> record, Exception exception, Consumer<Object, Object> consumer) {
		this.failures.computeIfAbsent(record.key(), (key) -> new AtomicInteger()).incrementAndGet();
	}

	int processed(String key) {
		AtomicInteger count = this.processed.get(key);
		return (count != null) ? count.get() : 0;
	}

	int failures(String key) {
		AtomicInteger count = this.failures.get(key);
		return (count != null) ? count.get() : 0;
	}

}
