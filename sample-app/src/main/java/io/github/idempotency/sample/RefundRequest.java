package io.github.idempotency.sample;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;

/**
 * What a client sends to refund a payment.
 *
 * @param amount the amount to refund in minor units, positive
 */
public record RefundRequest(@NotNull @Positive Long amount) {

}
