package io.github.idempotency.sample;

import java.time.Instant;

/**
 * A refund of part or all of a payment.
 *
 * @param id the refund's id
 * @param paymentId the payment refunded
 * @param amount the amount in minor units
 * @param status always {@code succeeded} in this sample
 * @param createdAt when the refund was made
 */
public record Refund(String id, String paymentId, long amount, String status, Instant createdAt) {

}
