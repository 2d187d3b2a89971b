package io.github.idempotency.sample;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of the sample, under {@code sample.*}.
 *
 * @param payments the simulated payment provider
 * @param embeddedRedis the Redis started when none answers
 */
@ConfigurationProperties("sample")
public record SampleProperties(Payments payments, EmbeddedRedis embeddedRedis) {

	public SampleProperties {
		payments = (payments != null) ? payments : new Payments(null);
		embeddedRedis = (embeddedRedis != null) ? embeddedRedis : new EmbeddedRedis(true);
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
	 * @param enabled whether an embedded Redis is started when none answers at the
	 * configured address
	 */
	public record EmbeddedRedis(boolean enabled) {

	}

}
