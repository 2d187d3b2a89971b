package io.github.idempotency.store.redis;

import io.github.idempotency.store.HeaderLines;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;

import io.github.idempotency.StoredResponse;
import org.jspecify.annotations.Nullable;

/**
 * One record as the scripts write it: a single Redis string, so that a record costs Redis
 * one allocation and about the size of its response, and each script reads it with one
 * {@code GET}.
 *
 * <p>
 * The string starts with a line of space-separated fields: format version, state
 * ({@code in_progress} or {@code completed}), fingerprint, owner (the random part of the
 * owner token, kept once completed), creation and completion times (epoch millis,
 * {@code -} for none), status ({@code -} while in progress) and the length of the header
 * block. A later minor version may append fields to this line. After it come the stored
 * headers ({@link HeaderLines}) and the body, exactly as written.
 *
 * @param version the format version
 * @param completed whether the response is stored
 * @param fingerprint the fingerprint of the request that claimed the key
 * @param createdAt when the key was claimed
 * @param completedAt when the response was stored, or {@code null}
 * @param response the stored response, or {@code null} while in progress
 */
record RedisRecord(String version, boolean completed, String fingerprint, @Nullable Instant createdAt,
		@Nullable Instant completedAt, @Nullable StoredResponse response) {

	static RedisRecord parse(byte[] record) {
		int lineEnd = indexOf(record, (byte) '\n');
		String[] fields = new String(record, 0, lineEnd, StandardCharsets.US_ASCII).split(" ");
		if (fields.length < 8) {
			throw new IllegalArgumentException("Record has " + fields.length + " fields on its first line");
		}
		boolean completed = "completed".equals(fields[1]);
		if (!completed && !"in_progress".equals(fields[1])) {
			throw new IllegalArgumentException("Record has the state '" + fields[1] + "'");
		}
		StoredResponse response = null;
		if (completed) {
			int headersStart = lineEnd + 1;
			int headersLength = Integer.parseInt(fields[7]);
			if (headersLength < 0 || headersLength > record.length - headersStart) {
				throw new IllegalArgumentException("Record announces " + headersLength + " bytes of headers");
			}
			int bodyStart = headersStart + headersLength;
			response = new StoredResponse(Integer.parseInt(fields[6]),
					HeaderLines.decode(Arrays.copyOfRange(record, headersStart, bodyStart)),
					Arrays.copyOfRange(record, bodyStart, record.length));
		}
		return new RedisRecord(fields[0], completed, fields[2], instant(fields[4]), instant(fields[5]), response);
	}

	/**
	 * The format version a record starts with, read without decoding the rest, which may
	 * be a large body or not this layout at all.
	 */
	static String version(byte[] record) {
		int end = 0;
		while (end < record.length && record[end] != ' ' && record[end] != '\n') {
			end++;
		}
		return new String(record, 0, end, StandardCharsets.US_ASCII);
	}

	/**
	 * The version, state and fingerprint a record starts with, read as the claim script
	 * reads them: three words, each followed by one space. {@code null} if the record
	 * does not start that way.
	 */
	static @Nullable Head head(byte[] record) {
		String[] words = new String[3];
		int start = 0;
		for (int i = 0; i < words.length; i++) {
			int end = start;
			while (end < record.length && !isSpace(record[end])) {
				end++;
			}
			if (end == start || end == record.length || record[end] != ' ') {
				return null;
			}
			words[i] = new String(record, start, end - start, StandardCharsets.ISO_8859_1);
			start = end + 1;
		}
		return new Head(words[0], words[1], words[2]);
	}

	// What Lua's %s matches.
	private static boolean isSpace(byte b) {
		return b == ' ' || (b >= '\t' && b <= '\r');
	}

	/**
	 * The first fields of a record.
	 *
	 * @param version the format version
	 * @param state {@code in_progress}, {@code completed}, or whatever else is there
	 * @param fingerprint the fingerprint of the request that claimed the key
	 */
	record Head(String version, String state, String fingerprint) {
	}

	private static @Nullable Instant instant(String millis) {
		return "-".equals(millis) ? null : Instant.ofEpochMilli(Long.parseLong(millis));
	}

	private static int indexOf(byte[] bytes, byte wanted) {
		for (int i = 0; i < bytes.length; i++) {
			if (bytes[i] == wanted) {
				return i;
			}
		}
		throw new IllegalArgumentException("Record has no first line");
	}

}
