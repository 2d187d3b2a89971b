package io.github.idempotency.store.redis;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stored headers as {@code Name: value} lines separated by CRLF, the way HTTP/1.1 writes
 * them; readable in {@code redis-cli}. HTTP forbids CR and LF inside field values, so the
 * separator cannot occur in one.
 */
final class HeaderLines {

	private HeaderLines() {
	}

	static byte[] encode(Map<String, List<String>> headers) {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		headers.forEach((name, values) -> values.forEach((value) -> {
			out.writeBytes((name + ": " + value + "\r\n").getBytes(StandardCharsets.UTF_8));
		}));
		return out.toByteArray();
	}

	static Map<String, List<String>> decode(byte[] encoded) {
		Map<String, List<String>> headers = new LinkedHashMap<>();
		for (String line : new String(encoded, StandardCharsets.UTF_8).split("\r\n")) {
			int colon = line.indexOf(": ");
			if (colon > 0) {
				headers.computeIfAbsent(line.substring(0, colon), (name) -> new ArrayList<>())
					.add(line.substring(colon + 2));
			}
		}
		return headers;
	}

}
