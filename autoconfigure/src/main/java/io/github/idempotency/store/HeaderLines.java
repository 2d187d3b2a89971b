package io.github.idempotency.store;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stored headers as {@code Name: value} lines, each ended by CRLF, the way HTTP/1.1
 * writes them; readable in {@code redis-cli} or a SQL console. A
 * {@link io.github.idempotency.StoredResponse} holds no CR or LF in a value, so the
 * separator cannot occur in one; reading refuses any block that is not such lines, since
 * a record may have been written by anything that can reach the store.
 *
 * @since 0.1.0
 */
public final class HeaderLines {

	private HeaderLines() {
	}

	/**
	 * Writes headers as lines.
	 * @param headers header names to their values
	 * @return the lines, UTF-8
	 */
	public static byte[] encode(Map<String, List<String>> headers) {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		headers.forEach((name, values) -> values.forEach((value) -> {
			out.writeBytes((name + ": " + value + "\r\n").getBytes(StandardCharsets.UTF_8));
		}));
		return out.toByteArray();
	}

	/**
	 * Reads lines written by {@link #encode}.
	 * @param encoded the lines, UTF-8
	 * @return header names to their values, in the order written
	 * @throws IllegalArgumentException if the block is not header lines
	 */
	public static Map<String, List<String>> decode(byte[] encoded) {
		Map<String, List<String>> headers = new LinkedHashMap<>();
		String block = new String(encoded, StandardCharsets.UTF_8);
		int start = 0;
		while (start < block.length()) {
			int end = block.indexOf("\r\n", start);
			if (end < 0) {
				throw new IllegalArgumentException("Header block does not end with CRLF");
			}
			String line = block.substring(start, end);
			int colon = line.indexOf(": ");
			if (colon <= 0) {
				throw new IllegalArgumentException("Header line without a name");
			}
			headers.computeIfAbsent(line.substring(0, colon), (name) -> new ArrayList<>())
				.add(line.substring(colon + 2));
			start = end + 2;
		}
		return headers;
	}

}
