package io.github.idempotency.web.app;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.springframework.stereotype.Component;

/**
 * Counts how many times each test handler really ran, by a name the test chooses (usually
 * its idempotency key), and notes the thread it last ran on.
 */
@Component
public class Executions {

	private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();

	private final Map<String, String> threads = new ConcurrentHashMap<>();

	public int record(String name) {
		this.threads.put(name, Thread.currentThread().toString());
		return this.counts.computeIfAbsent(name, (key) -> new AtomicInteger()).incrementAndGet();
	}

	/**
	 * How the thread the named handler last ran on describes itself, or {@code null}.
	 */
	public String thread(String name) {
		return this.threads.get(name);
	}

	public int count(String name) {
		AtomicInteger count = this.counts.get(name);
		return (count != null) ? count.get() : 0;
	}

}
