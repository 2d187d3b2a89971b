package io.github.idempotency.store;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The owner tokens stores hand out with each claim.
 *
 * @since 0.1.0
 */
public final class OwnerTokens {

	private OwnerTokens() {
	}

	/**
	 * A fresh token: 32 hex digits, 128 random bits. Tokens must be unique among the
	 * claims of one key, not secret, since they never leave the application and its
	 * store; so a lock-free generator serves better than SecureRandom's shared one.
	 * @return the token
	 */
	public static String newToken() {
		ThreadLocalRandom random = ThreadLocalRandom.current();
		return HexFormat.of().toHexDigits(random.nextLong()) + HexFormat.of().toHexDigits(random.nextLong());
	}

}
