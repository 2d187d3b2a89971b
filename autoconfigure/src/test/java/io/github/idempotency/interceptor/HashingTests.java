package io.github.idempotency.interceptor;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HashingTests {

	@Test
	void hexShouldMatchTheJdksLowerCaseHex() {
		byte[] bytes = new byte[256];
		for (int i = 0; i < bytes.length; i++) {
			bytes[i] = (byte) i;
		}
		assertThat(Hashing.hex(bytes)).isEqualTo(HexFormat.of().formatHex(bytes));
	}

	@Test
	void recordKeyShouldBeTheSha256OfScopeZeroByteAndKey() throws Exception {
		java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
		byte[] expected = digest.digest("POST /orders\0order-42".getBytes(StandardCharsets.UTF_8));
		assertThat(Hashing.recordKey("POST /orders", "order-42")).isEqualTo(HexFormat.of().formatHex(expected));
	}

}
