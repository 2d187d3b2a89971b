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
		LinkedHashMap<String, List<String>> copy = new LinkedHashMap<>();
		headers.forEach((name, values) -> copy.put(name, List.copyOf(values)));
		headers = Collections.unmodifiableMap(copy);
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
