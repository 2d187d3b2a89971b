package io.github.idempotency.store.jdbc;

import java.time.Duration;

import io.github.idempotency.ClaimResult;

/**
 * An application that claims a key and then hangs until it is killed, for the test of a
 * crashed owner: {@code ClaimThenHang <jdbc url>
 *
<table>
 *  <key> <lease millis>}.
 */
final class ClaimThenHang {

	private ClaimThenHang() {
	}

	public static void main(String[] args) throws InterruptedException {
		JdbcIdempotencyStore store = JdbcStores.store(JdbcStores.dataSource(args[0]), args[1], false);
		ClaimResult claim = store.claim(args[2], "fp", Duration.ofMillis(Long.parseLong(args[3])));
		System.out.println((claim instanceof ClaimResult.Claimed) ? "claimed" : "not claimed: " + claim);
		System.out.flush();
		Thread.sleep(Long.MAX_VALUE);
	}

}
