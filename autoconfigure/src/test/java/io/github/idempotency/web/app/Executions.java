package io.github.idempotency.web.app;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.springframework.stereotype.Component;

/**
 * Counts how many times each test handler really ran, by a name the test chooses (usually
 * its idempotency key).
 */
@Component
public class Executions {

	private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();

	public int record(String name) {
		return this.counts.computeIfAbsent(name, (key) -> new AtomicInteger()).incrementAndGet();
	}

	public int count(String name) {
		AtomicInteger count = this.counts.get(name);
		return (count != null) ? count.get() : 0;
	}

}
