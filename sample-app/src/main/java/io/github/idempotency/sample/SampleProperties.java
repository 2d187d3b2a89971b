package io.github.idempotency.sample;

import java.time.Duration;
import java.util.UUID;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of the sample, under {@code sample.*}.
 *
 * @param payments the simulated payment provider
 * @param embeddedRedis the Redis started when none answers
 * @param ledger the consumer group that books captured payments
 */
@ConfigurationProperties("sample")
public record SampleProperties(Payments payments, EmbeddedRedis embeddedRedis, Ledger ledger) {

	public SampleProperties {
		payments = (payments != null) ? payments : new Payments(null);
		embeddedRedis = (embeddedRedis != null) ? embeddedRedis : new EmbeddedRedis(true);
		ledger = (ledger != null) ? ledger : new Ledger(true, null, null, null, null, null, null);
	}

	/**
	 * @param processingDelay how long the simulated provider takes per charge, to make
	 * in-flight duplicates visible
	 */
	public record Payments(Duration processingDelay) {

		public Payments {
			processingDelay = (processingDelay != null) ? processingDelay : Duration.ZERO;
		}

	}

	/**
	 * @param enabled whether captured payments are published and booked
	 * @param stream the Redis stream the events go to
	 * @param group the ledger's consumer group
	 * @param consumer this instance's name in the group; each instance needs its own
	 * @param reclaimIdle how long an event stays pending before any consumer takes it
	 * over
	 * @param reclaimInterval how often pending events are looked for
	 * @param bookingDelay how long booking an event takes, to make duplicates in progress
	 * visible
	 */
	public record Ledger(boolean enabled, String stream, String group, String consumer, Duration reclaimIdle,
			Duration reclaimInterval, Duration bookingDelay) {

		public Ledger {
			stream = (stream != null) ? stream : "payments.captured";
			group = (group != null) ? group : "ledger";
			consumer = (consumer != null) ? consumer : "ledger-" + UUID.randomUUID();
			reclaimIdle = (reclaimIdle != null) ? reclaimIdle : Duration.ofSeconds(30);
			reclaimInterval = (reclaimInterval != null) ? reclaimInterval : Duration.ofSeconds(10);
			bookingDelay = (bookingDelay != null) ? bookingDelay : Duration.ZERO;
		}

	}

	/**
	 * @param enabled whether an embedded Redis is started when none answers at the
	 * configured address
	 */
	public record EmbeddedRedis(boolean enabled) {

	}

}
