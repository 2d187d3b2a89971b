package io.github.idempotency.sample;

import java.net.URI;

import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.web.ErrorResponseException;

/**
 * The business errors of the sample, as RFC 9457 problems that Spring MVC renders.
 */
final class PaymentProblems {

	private static final String TYPE_PREFIX = "urn:problem-type:sample:";

	private PaymentProblems() {
	}

	static ErrorResponseException declined(long amount) {
		return problem(HttpStatus.PAYMENT_REQUIRED, "payment-declined", "Payment declined",
				"The provider declined a payment of " + amount + "; amounts above 1000000 are declined.");
	}

	static ErrorResponseException providerUnavailable(String reference) {
		return problem(HttpStatus.SERVICE_UNAVAILABLE, "provider-unavailable", "Payment provider unavailable",
				"The provider failed while charging '" + reference + "'. Retry with the same idempotency key.");
	}

	static ErrorResponseException paymentNotFound(String id) {
		return problem(HttpStatus.NOT_FOUND, "payment-not-found", "Payment not found", "No payment has id " + id + ".");
	}

	static ErrorResponseException refundTooLarge(String id, long refundable) {
		return problem(HttpStatus.BAD_REQUEST, "refund-too-large", "Refund too large",
				"Payment " + id + " has " + refundable + " left to refund.");
	}

	private static ErrorResponseException problem(HttpStatus status, String code, String title, String detail) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
		problem.setType(URI.create(TYPE_PREFIX + code));
		problem.setTitle(title);
		return new ErrorResponseException(status, problem, null);
	}

}
