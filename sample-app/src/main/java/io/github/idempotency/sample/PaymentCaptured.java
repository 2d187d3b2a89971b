package io.github.idempotency.sample;

import java.util.Map;

/**
 * The event a captured payment publishes on the payments stream.
 *
 * @param eventId the event's own id, the same on every delivery and every republication
 * @param paymentId the payment captured
 * @param amount the amount in minor units
 * @param currency the ISO 4217 currency code
 */
public record PaymentCaptured(String eventId, String paymentId, long amount, String currency) {

	Map<String, String> toFields() {
		return Map.of("eventId", this.eventId, "paymentId", this.paymentId, "amount", Long.toString(this.amount),
				"currency", this.currency);
	}

	static PaymentCaptured fromFields(Map<String, String> fields) {
		return new PaymentCaptured(fields.get("eventId"), fields.get("paymentId"), Long.parseLong(fields.get("amount")),
				fields.get("currency"));
	}

}
