package io.github.idempotency;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A response as the client received it: status, the headers chosen for replay, and the
 * body bytes exactly as written.
 *
 * <p>
 * Only what HTTP can send is accepted, so that whatever a store hands back can be
 * replayed as it is: a status from 100 to 599, header names that are HTTP tokens, and
 * header values without control characters other than horizontal tab (in particular no CR
 * or LF, which would let a stored value start a header of its own).
 *
 * @param status the HTTP status code
 * @param headers header names to their values, in the order they were written
 * @param body the body bytes; never modified after construction
 * @since 0.1.0
 */
public record StoredResponse(int status, Map<String, List<String>> headers, byte[] body) {

	/**
	 * @throws IllegalArgumentException if the status, a header name or a header value is
	 * one HTTP cannot send
	 */
	public StoredResponse {
		if (status < 100 || status > 599) {
			throw new IllegalArgumentException("Status " + status + " is not an HTTP status");
		}
		headers.forEach(StoredResponse::check);
		headers = copy(headers);
	}

	// Every replay runs these checks, so they are plain loops over the characters.
	private static void check(String name, List<String> values) {
		if (name.isEmpty() || !isToken(name)) {
			throw new IllegalArgumentException("'" + name + "' is not an HTTP header name");
		}
		for (String value : values) {
			for (int i = 0; i < value.length(); i++) {
				char c = value.charAt(i);
				if (c != '\t' && (c < 0x20 || c == 0x7F)) {
					throw new IllegalArgumentException("The value of header " + name + " has a control character");
				}
			}
			for (int i = 0; i < value.length(); i++) {
				// A surrogate is text only as the first half of a pair.
				if (Character.isSurrogate(value.charAt(i))) {
					if (!Character.isHighSurrogate(value.charAt(i)) || i + 1 == value.length()
							|| !Character.isLowSurrogate(value.charAt(i + 1))) {
						throw new IllegalArgumentException("The value of header " + name + " is not Unicode text");
					}
					i++;
				}
			}
		}
	}

	private static boolean isToken(String name) {
		for (int i = 0; i < name.length(); i++) {
			if (!isTokenChar(name.charAt(i))) {
				return false;
			}
		}
		return true;
	}

	// RFC 9110 tchar.
	private static boolean isTokenChar(int c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
				|| "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
	}

	// Responses usually carry a header or two; stores may keep millions of them, so the
	// common sizes get maps that hold no more than they need.
	private static Map<String, List<String>> copy(Map<String, List<String>> headers) {
		if (headers.isEmpty()) {
			return Map.of();
		}
		if (headers.size() == 1) {
			Map.Entry<String, List<String>> header = headers.entrySet().iterator().next();
			return Map.of(header.getKey(), List.copyOf(header.getValue()));
		}
		Map<String, List<String>> copy = new LinkedHashMap<>((int) Math.ceil(headers.size() / 0.75));
		headers.forEach((name, values) -> copy.put(name, List.copyOf(values)));
		return Collections.unmodifiableMap(copy);
	}

	@Override
	public boolean equals(Object other) {
		return other instanceof StoredResponse that && this.status == that.status && this.headers.equals(that.headers)
				&& Arrays.equals(this.body, that.body);
	}

	@Override
	public int hashCode() {
		return 31 * (31 * this.status + this.headers.hashCode()) + Arrays.hashCode(this.body);
	}

	@Override
	public String toString() {
		return "StoredResponse[status=" + this.status + ", headers=" + this.headers + ", body=" + this.body.length
				+ " bytes]";
	}

}
