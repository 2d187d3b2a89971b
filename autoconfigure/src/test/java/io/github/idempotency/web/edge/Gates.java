package io.github.idempotency.web.edge;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

import org.springframework.stereotype.Component;

/**
 * Latches a test opens to let a handler go on, by the name the test chose.
 */
@Component
public class Gates {

	private final Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();

	CountDownLatch open(String name) {
		return this.gates.computeIfAbsent(name, (key) -> new CountDownLatch(1));
	}

	public void release(String name) {
		open(name).countDown();
	}

}
