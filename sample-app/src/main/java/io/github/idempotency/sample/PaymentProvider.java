package io.github.idempotency.sample;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Component;

/**
 * A simulated payment provider: slow when configured, declining amounts above 1,000,000,
 * and failing the first charge of every reference that starts with {@code outage}.
 */
@Component
public class PaymentProvider {

	static final long LARGEST_ACCEPTED_AMOUNT = 1_000_000;

	private final Set<String> outagesSeen = ConcurrentHashMap.newKeySet();

	private final SampleProperties properties;

	public PaymentProvider(SampleProperties properties) {
		this.properties = properties;
	}

	/**
	 * Charges a payment.
	 * @param request the payment
	 * @return {@code succeeded}, {@code declined} or {@code failed}
	 */
	String charge(PaymentRequest request) throws InterruptedException {
		Thread.sleep(this.properties.payments().processingDelay().toMillis());
		if (request.amount() > LARGEST_ACCEPTED_AMOUNT) {
			return "declined";
		}
		if (request.reference().startsWith("outage") && this.outagesSeen.add(request.reference())) {
			return "failed";
		}
		return "succeeded";
	}

}
