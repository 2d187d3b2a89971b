package io.github.idempotency.sample;

import java.time.Instant;

/**
 * A payment as the ledger booked it.
 *
 * @param eventId the event that booked it
 * @param paymentId the payment
 * @param amount the amount in minor units
 * @param currency the ISO 4217 currency code
 * @param bookedAt when it was booked
 */
public record Booking(String eventId, String paymentId, long amount, String currency, Instant bookedAt) {

}
