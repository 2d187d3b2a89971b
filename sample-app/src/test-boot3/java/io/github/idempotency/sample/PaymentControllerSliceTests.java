package io.github.idempotency.sample;

import io.github.idempotency.autoconfigure.AutoConfigureIdempotency;

import org.springframework.boot.test.autoconfigure.web.servlet.WebMvcTest;
import org.springframework.context.annotation.Import;

/**
 * The slice test on Spring Boot 3.5, whose {@code @WebMvcTest} lives in
 * {@code org.springframework.boot.test.autoconfigure.web.servlet}.
 */
@WebMvcTest(PaymentController.class)
@AutoConfigureIdempotency
@Import(PaymentLedger.class)
class PaymentControllerSliceTests extends AbstractPaymentControllerSliceTests {

}
