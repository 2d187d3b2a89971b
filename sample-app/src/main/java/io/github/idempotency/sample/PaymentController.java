package io.github.idempotency.sample;

import java.net.URI;
import java.util.List;

import io.github.idempotency.annotation.Idempotent;
import jakarta.validation.Valid;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The payments API. Creating a payment and refunding one are safe to retry with an
 * {@code Idempotency-Key}; reading is naturally idempotent and shows how many times the
 * handlers really ran.
 */
@RestController
@RequestMapping("/payments")
public class PaymentController {

	private final PaymentProvider provider;

	private final PaymentLedger ledger;

	private final ObjectProvider<PaymentEvents> events;

	public PaymentController(PaymentProvider provider, PaymentLedger ledger, ObjectProvider<PaymentEvents> events) {
		this.provider = provider;
		this.ledger = ledger;
		this.events = events;
	}

	@PostMapping
	@Idempotent
	ResponseEntity<Payment> create(@Valid @RequestBody PaymentRequest request) throws InterruptedException {
		String outcome = this.provider.charge(request);
		Payment payment = this.ledger.record(request, outcome);
		if (outcome.equals("declined")) {
			// A final answer: stored and replayed, so a retry never charges again.
			throw PaymentProblems.declined(request.amount());
		}
		if (outcome.equals("failed")) {
			// A 5xx releases the key, so a retry with the same key runs again.
			throw PaymentProblems.providerUnavailable(request.reference());
		}
		this.events.ifAvailable((events) -> events.captured(payment));
		return ResponseEntity.created(URI.create("/payments/" + payment.id())).body(payment);
	}

	@PostMapping("/{id}/refunds")
	@Idempotent
	ResponseEntity<Refund> refund(@PathVariable String id, @Valid @RequestBody RefundRequest request) {
		Payment payment = this.ledger.payment(id).orElseThrow(() -> PaymentProblems.paymentNotFound(id));
		Refund refund = this.ledger.refund(payment, request.amount());
		return ResponseEntity.created(URI.create("/payments/" + id + "/refunds/" + refund.id())).body(refund);
	}

	@GetMapping
	List<Payment> payments() {
		return this.ledger.payments();
	}

	@GetMapping("/{id}")
	Payment payment(@PathVariable String id) {
		return this.ledger.payment(id).orElseThrow(() -> PaymentProblems.paymentNotFound(id));
	}

	@GetMapping("/{id}/refunds")
	List<Refund> refunds(@PathVariable String id) {
		return this.ledger.refunds(id);
	}

}
