package io.github.idempotency.sample;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import io.github.idempotency.IdempotencyKeyReusedException;
import io.github.idempotency.IdempotentCallInProgressException;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.stream.MapRecord;
import org.springframework.data.redis.connection.stream.PendingMessage;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.core.StreamOperations;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.stream.StreamListener;

/**
 * One consumer of the ledger's consumer group on the payments stream: books each event it
 * is delivered, then acknowledges it ({@code XACK}). An event it could not book (its
 * duplicate is still being booked elsewhere, or booking failed) stays pending, and so
 * does every event of a consumer that died before acknowledging: {@link #reclaim} takes
 * over entries pending for longer than the idle time ({@code XPENDING}, then
 * {@code XCLAIM}) and books them, which for an event already booked does nothing but
 * acknowledge it. An entry delivered ten times without being booked moves to the
 * dead-letter stream.
 */
public class LedgerConsumer implements StreamListener<String, MapRecord<String, String, String>> {

	private static final Log logger = LogFactory.getLog(LedgerConsumer.class);

	private static final int RECLAIM_BATCH = 100;

	// An entry delivered this often without being acknowledged fails on every delivery
	// (it cannot be read, say). Left pending, such entries would fill the first page of
	// every reclaim, and the entries behind them would never be taken over.
	private static final long MOST_DELIVERIES = 10;

	private final StreamOperations<String, String, String> streams;

	private final Bookkeeping bookkeeping;

	private final String stream;

	private final String deadLetters;

	private final String group;

	private final String name;

	private final Duration reclaimIdle;

	public LedgerConsumer(StringRedisTemplate redis, Bookkeeping bookkeeping, SampleProperties.Ledger ledger) {
		this.streams = redis.opsForStream();
		this.bookkeeping = bookkeeping;
		this.stream = ledger.stream();
		this.deadLetters = ledger.stream() + ":dead-letters";
		this.group = ledger.group();
		this.name = ledger.consumer();
		this.reclaimIdle = ledger.reclaimIdle();
	}

	String name() {
		return this.name;
	}

	@Override
	public void onMessage(MapRecord<String, String, String> record) {
		PaymentCaptured event = PaymentCaptured.fromFields(record.getValue());
		this.bookkeeping.delivered(event);
		try {
			this.bookkeeping.book(event);
		}
		catch (IdempotencyKeyReusedException ex) {
			// Another event under this one's id: it can never be booked, so it moves to
			// the dead-letter stream, for someone to look at, rather than stay pending.
			deadLetter(record, ex.getMessage());
			logger.warn("Event " + event.eventId() + " reuses the id of another; moved to " + this.deadLetters);
			return;
		}
		catch (IdempotentCallInProgressException ex) {
			// Not acknowledged: the event stays pending until the reclaim, by when the
			// booking in progress has finished and this one replays it.
			logger.info("Event " + event.eventId() + " is still being booked elsewhere; left pending");
			return;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return;
		}
		this.streams.acknowledge(this.group, record);
	}

	/**
	 * Takes over and books the entries pending for longer than the idle time, whichever
	 * consumer they were delivered to; moves those delivered too often to the dead-letter
	 * stream.
	 */
	void reclaim() {
		Map<RecordId, Long> deliveries = new LinkedHashMap<>();
		for (PendingMessage pending : this.streams.pending(this.stream, this.group, Range.unbounded(), RECLAIM_BATCH)) {
			if (pending.getElapsedTimeSinceLastDelivery().compareTo(this.reclaimIdle) >= 0) {
				deliveries.put(pending.getId(), pending.getTotalDeliveryCount());
			}
		}
		if (deliveries.isEmpty()) {
			return;
		}
		// XCLAIM takes only the entries still idle for that long: another consumer may
		// have taken some over meanwhile.
		for (MapRecord<String, String, String> record : this.streams.claim(this.stream, this.group, this.name,
				this.reclaimIdle, deliveries.keySet().toArray(RecordId[]::new))) {
			if (deliveries.getOrDefault(record.getId(), 0L) >= MOST_DELIVERIES) {
				deadLetter(record, "delivered " + MOST_DELIVERIES + " times without being booked");
				logger.warn("Entry " + record.getId() + " was delivered " + MOST_DELIVERIES
						+ " times without being booked; moved to " + this.deadLetters);
				continue;
			}
			try {
				onMessage(record);
			}
			catch (RuntimeException ex) {
				// Left pending for the next reclaim; the entries after it go on.
				logger.warn("Entry " + record.getId() + " could not be booked; left pending: " + ex.getMessage());
			}
		}
	}

	// For someone to look at, rather than pending for good.
	private void deadLetter(MapRecord<String, String, String> record, String reason) {
		Map<String, String> fields = new LinkedHashMap<>(record.getValue());
		fields.put("reason", reason);
		this.streams.add(this.deadLetters, fields);
		this.streams.acknowledge(this.group, record);
	}

}
