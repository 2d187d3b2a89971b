package io.github.idempotency.messaging;

import org.springframework.boot.logging.LoggingSystem;

/**
 * Hands back the levels a test class set through its {@code logging.level} properties.
 * Those levels belong to the JVM's logging system, not to the test's context, so they
 * would otherwise silence the loggers for every test class that runs after it.
 */
final class LogLevels {

	private LogLevels() {
	}

	static void reset(String... loggers) {
		LoggingSystem logging = LoggingSystem.get(LogLevels.class.getClassLoader());
		for (String logger : loggers) {
			logging.setLogLevel(logger, null);
		}
	}

}
