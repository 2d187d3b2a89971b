package io.github.idempotency.test;

import java.util.Map;

import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * A real Kafka broker in the test JVM (KRaft mode, spring-kafka-test's), one per JVM,
 * started the first time a test asks for it and stopped when the JVM exits. Each test
 * names its own topics, so that tests sharing the broker never read each other's records.
 */
public final class KafkaTestBroker {

	private static volatile EmbeddedKafkaKraftBroker broker;

	private KafkaTestBroker() {
	}

	/**
	 * The broker's bootstrap servers, starting it the first time.
	 * @return {@code host:port} pairs, comma-separated
	 */
	public static String bootstrapServers() {
		EmbeddedKafkaKraftBroker current = broker;
		if (current == null) {
			synchronized (KafkaTestBroker.class) {
				current = broker;
				if (current == null) {
					current = new EmbeddedKafkaKraftBroker(1, 1);
					// A consumer group forms at once, without waiting for more members;
					// transactions keep their log on the one broker there is.
					current.brokerProperties(Map.of("group.initial.rebalance.delay.ms", "0",
							"transaction.state.log.replication.factor", "1", "transaction.state.log.min.isr", "1"));
					current.afterPropertiesSet();
					Runtime.getRuntime().addShutdownHook(new Thread(current::destroy));
					broker = current;
				}
			}
		}
		return current.getBrokersAsString();
	}

}
