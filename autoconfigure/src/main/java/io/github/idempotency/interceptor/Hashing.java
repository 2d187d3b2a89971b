package io.github.idempotency.interceptor;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The SHA-256 hashes records are addressed and compared by: record keys, from a key and
 * its scope, and the digests transports build fingerprints with.
 *
 * @since 0.1.0
 */
public final class Hashing {

	private static final MessageDigest SHA_256 = newSha256();

	private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.ISO_8859_1);

	private Hashing() {
	}

	/**
	 * The hex SHA-256 of a key within its scope: what stores use as record key, so that
	 * the client's key never reaches the store as written.
	 * @param scope the scope the key belongs to
	 * @param key the client's key
	 * @return the record key, 64 lower-case hex characters
	 */
	public static String recordKey(String scope, String key) {
		MessageDigest digest = sha256();
		digest.update(scope.getBytes(StandardCharsets.UTF_8));
		digest.update((byte) 0);
		digest.update(key.getBytes(StandardCharsets.UTF_8));
		return hex(digest.digest());
	}

	/**
	 * A fresh SHA-256 digest.
	 * @return the digest
	 */
	// Looking an algorithm up among the security providers costs about a microsecond per
	// call; a copy of a fresh digest costs a fraction of that.
	public static MessageDigest sha256() {
		try {
			return (MessageDigest) SHA_256.clone();
		}
		catch (CloneNotSupportedException ex) {
			return newSha256();
		}
	}

	/**
	 * Lower-case hex, as fingerprints and record keys are written.
	 * @param bytes a digest
	 * @return its hex form
	 */
	public static String hex(byte[] bytes) {
		// A lookup table rather than HexFormat, whose general formatting stood out in a
		// profile of the method path, which writes two digests a call.
		byte[] digits = new byte[bytes.length * 2];
		for (int i = 0; i < bytes.length; i++) {
			digits[2 * i] = HEX[(bytes[i] >> 4) & 0xF];
			digits[2 * i + 1] = HEX[bytes[i] & 0xF];
		}
		return new String(digits, StandardCharsets.ISO_8859_1);
	}

	private static MessageDigest newSha256() {
		try {
			return MessageDigest.getInstance("SHA-256");
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException("Every Java platform has SHA-256", ex);
		}
	}

}
