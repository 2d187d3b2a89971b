package io.github.idempotency.sample;

import java.util.List;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The ledger's bookings, and a way to deliver a payment's event twice.
 */
@RestController
@ConditionalOnProperty(prefix = "sample.ledger", name = "enabled", matchIfMissing = true)
class LedgerController {

	private final Bookkeeping bookkeeping;

	private final PaymentEvents events;

	LedgerController(Bookkeeping bookkeeping, PaymentEvents events) {
		this.bookkeeping = bookkeeping;
		this.events = events;
	}

	@GetMapping("/ledger")
	List<LedgerEntry> ledger() {
		return this.bookkeeping.bookings()
			.stream()
			.map((booking) -> new LedgerEntry(booking, this.bookkeeping.deliveries(booking.eventId())))
			.toList();
	}

	/**
	 * Publishes a payment's captured event again, as a producer that did not hear back
	 * from the broker would.
	 */
	@PostMapping("/payments/{id}/events")
	ResponseEntity<PaymentCaptured> republish(@PathVariable String id) {
		return this.events.republish(id)
			.map((event) -> ResponseEntity.accepted().body(event))
			.orElseThrow(() -> PaymentProblems.paymentNotFound(id));
	}

	/**
	 * @param booking what the ledger booked
	 * @param deliveries how many times its event was delivered to the ledger
	 */
	record LedgerEntry(Booking booking, int deliveries) {

	}

}
