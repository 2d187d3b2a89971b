package io.github.idempotency.sample;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.annotation.Idempotent;

/**
 * Books captured payments, each once, however often its event is delivered: by the
 * event's id, which every delivery and every republication of the event carries.
 */
public class Bookkeeping {

	private final List<Booking> bookings = new CopyOnWriteArrayList<>();

	private final Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();

	private final Duration bookingDelay;

	public Bookkeeping(Duration bookingDelay) {
		this.bookingDelay = bookingDelay;
	}

	/**
	 * Books a payment; a later call for the same event does nothing.
	 * @param event the event
	 */
	@Idempotent(key = "#event.eventId()")
	public void book(PaymentCaptured event) throws InterruptedException {
		Thread.sleep(this.bookingDelay.toMillis());
		this.bookings
			.add(new Booking(event.eventId(), event.paymentId(), event.amount(), event.currency(), Instant.now()));
	}

	void delivered(PaymentCaptured event) {
		this.deliveries.computeIfAbsent(event.eventId(), (id) -> new AtomicInteger()).incrementAndGet();
	}

	List<Booking> bookings() {
		return List.copyOf(this.bookings);
	}

	int deliveries(String eventId) {
		AtomicInteger count = this.deliveries.get(eventId);
		return (count != null) ? count.get() : 0;
	}

}
