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
 * @param status the HTTP status code
 * @param headers header names to their values, in the order they were written
 * @param body the body bytes; never modified after construction
 * @since 0.1.0
 */
public record StoredResponse(int status, Map<String, List<String>> headers, byte[] body) {

	public StoredResponse {
		headers = copy(headers);
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
