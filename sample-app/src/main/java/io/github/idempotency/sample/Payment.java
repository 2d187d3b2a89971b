package io.github.idempotency.sample;

import java.time.Instant;

/**
 * A payment as the API shows it.
 *
 * @param id the payment's id
 * @param amount the amount in minor units (cents)
 * @param currency the ISO 4217 currency code
 * @param reference the merchant's reference
 * @param status {@code succeeded}, {@code declined} or {@code failed}
 * @param createdAt when the payment was attempted
 */
public record Payment(String id, long amount, String currency, String reference, String status, Instant createdAt) {

}
