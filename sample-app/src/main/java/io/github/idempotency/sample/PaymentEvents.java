package io.github.idempotency.sample;

import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Publishes a {@link PaymentCaptured} event on the payments stream for every payment that
 * succeeded, and publishes it again on request, as a producer whose send timed out would.
 */
public class PaymentEvents {

	private final StringRedisTemplate redis;

	private final String stream;

	private final Map<String, PaymentCaptured> published = new ConcurrentHashMap<>();

	public PaymentEvents(StringRedisTemplate redis, String stream) {
		this.redis = redis;
		this.stream = stream;
	}

	void captured(Payment payment) {
		PaymentCaptured event = new PaymentCaptured(UUID.randomUUID().toString(), payment.id(), payment.amount(),
				payment.currency());
		this.published.put(payment.id(), event);
		publish(event);
	}

	/**
	 * Publishes a payment's event again, with its id: the same event, delivered twice.
	 * @param paymentId the payment
	 * @return the event, or empty if the payment published none
	 */
	Optional<PaymentCaptured> republish(String paymentId) {
		Optional<PaymentCaptured> event = Optional.ofNullable(this.published.get(paymentId));
		event.ifPresent(this::publish);
		return event;
	}

	private void publish(PaymentCaptured event) {
		this.redis.opsForStream().add(this.stream, event.toFields());
	}

}
