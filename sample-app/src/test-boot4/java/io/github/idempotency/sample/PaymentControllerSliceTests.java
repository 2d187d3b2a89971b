package io.github.idempotency.sample;

import io.github.idempotency.autoconfigure.AutoConfigureIdempotency;

import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.Import;

/**
 * The slice test on Spring Boot 4, whose {@code @WebMvcTest} lives in
 * {@code org.springframework.boot.webmvc.test.autoconfigure}.
 */
@WebMvcTest(PaymentController.class)
@AutoConfigureIdempotency
@Import(PaymentLedger.class)
class PaymentControllerSliceTests extends AbstractPaymentControllerSliceTests {

}
