package io.github.idempotency.sample;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.springframework.stereotype.Component;

/**
 * Every payment and refund attempt, in memory: this sample demonstrates idempotency, not
 * persistence.
 */
@Component
public class PaymentLedger {

	private final AtomicLong ids = new AtomicLong();

	private final Map<String, Payment> payments = new ConcurrentHashMap<>();

	private final Map<String, List<Refund>> refunds = new ConcurrentHashMap<>();

	Payment record(PaymentRequest request, String status) {
		Payment payment = new Payment("pay_" + this.ids.incrementAndGet(), request.amount(), request.currency(),
				request.reference(), status, Instant.now());
		this.payments.put(payment.id(), payment);
		return payment;
	}

	List<Payment> payments() {
		return this.payments.values().stream().sorted((a, b) -> Long.compare(number(a.id()), number(b.id()))).toList();
	}

	Optional<Payment> payment(String id) {
		return Optional.ofNullable(this.payments.get(id));
	}

	// Guarded in the data as well as by the idempotency key: a second refund sent with a
	// fresh key (a client that lost its key, a second operator) still cannot refund more
	// than was paid. In a database the same guard is a conditional UPDATE.
	synchronized Refund refund(Payment payment, long amount) {
		long refunded = refunds(payment.id()).stream().mapToLong(Refund::amount).sum();
		if (refunded + amount > payment.amount()) {
			throw PaymentProblems.refundTooLarge(payment.id(), payment.amount() - refunded);
		}
		Refund refund = new Refund("re_" + this.ids.incrementAndGet(), payment.id(), amount, "succeeded",
				Instant.now());
		this.refunds.computeIfAbsent(payment.id(), (id) -> new ArrayList<>()).add(refund);
		return refund;
	}

	synchronized List<Refund> refunds(String paymentId) {
		return List.copyOf(this.refunds.getOrDefault(paymentId, List.of()));
	}

	private static long number(String id) {
		return Long.parseLong(id.substring(id.indexOf('_') + 1));
	}

}
