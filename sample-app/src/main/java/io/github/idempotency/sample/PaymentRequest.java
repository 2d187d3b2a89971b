package io.github.idempotency.sample;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;

/**
 * What a client sends to create a payment.
 *
 * @param amount the amount in minor units, positive
 * @param currency three upper-case letters
 * @param reference the merchant's reference, not blank
 */
public record PaymentRequest(@NotNull @Positive Long amount, @NotNull @Pattern(regexp = "[A-Z]{3}") String currency,
		@NotBlank String reference) {

}
