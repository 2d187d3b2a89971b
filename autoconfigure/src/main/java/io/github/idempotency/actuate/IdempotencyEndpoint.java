package io.github.idempotency.actuate;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.IdempotencyRecord;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.web.IdempotencyScopeResolver;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

/**
 * The {@code idempotency} Actuator endpoint: reads one record, and deletes one to free a
 * stuck claim.
 *
 * <p>
 * A record is named either by its record key (the 64 hex characters the logs show) or by
 * the operation, the client's key and, for authenticated requests, the principal; the
 * latter works with the default scope rule only. The stored body is shown only when asked
 * for. Reading is allowed by default; deleting only once
 * {@code management.endpoint.idempotency.access} is {@code unrestricted}, since a deleted
 * record lets a retry run its operation again.
 *
 * <p>
 * Optional parameters carry Spring's own {@code @Nullable}, the annotation by which
 * Actuator recognises them.
 *
 * @since 0.1.0
 */
@Endpoint(id = "idempotency", defaultAccess = Access.READ_ONLY)
public class IdempotencyEndpoint {

	private final IdempotencyStore store;

	public IdempotencyEndpoint(IdempotencyStore store) {
		this.store = store;
	}

	/**
	 * Reads a record by operation and key:
	 * {@code GET /actuator/idempotency?operation=POST /payments&key=abc}.
	 * @param operation the request method and route pattern, as the metrics tag it
	 * @param key the client's idempotency key
	 * @param principal the authenticated user's name, if the request was authenticated
	 * @param body whether to include the stored body
	 * @return the record, or {@code null} (404) if there is none
	 */
	@ReadOperation
	public @Nullable Map<String, Object> recordByKey(String operation, String key,
			@org.springframework.lang.Nullable String principal, @org.springframework.lang.Nullable Boolean body) {
		return record(recordKey(operation, key, principal), body);
	}

	/**
	 * Reads a record by record key: {@code GET /actuator/idempotency/{recordKey}}.
	 * @param recordKey the record key
	 * @param body whether to include the stored body
	 * @return the record, or {@code null} (404) if there is none
	 */
	@ReadOperation
	public @Nullable Map<String, Object> record(@Selector String recordKey,
			@org.springframework.lang.Nullable Boolean body) {
		return this.store.find(recordKey)
			.map((record) -> describe(recordKey, record, Boolean.TRUE.equals(body)))
			.orElse(null);
	}

	/**
	 * Deletes a record by operation and key:
	 * {@code DELETE /actuator/idempotency?operation=POST /payments&key=abc}.
	 * @param operation the request method and route pattern
	 * @param key the client's idempotency key
	 * @param principal the authenticated user's name, if the request was authenticated
	 * @return whether a record was deleted
	 */
	@DeleteOperation
	public Map<String, Object> deleteByKey(String operation, String key,
			@org.springframework.lang.Nullable String principal) {
		return delete(recordKey(operation, key, principal));
	}

	/**
	 * Deletes a record by record key: {@code DELETE /actuator/idempotency/{recordKey}}.
	 * @param recordKey the record key
	 * @return whether a record was deleted
	 */
	@DeleteOperation
	public Map<String, Object> delete(@Selector String recordKey) {
		return Map.of("recordKey", recordKey, "deleted", this.store.delete(recordKey));
	}

	private static String recordKey(String operation, String key, @Nullable String principal) {
		return Hashing.recordKey(IdempotencyScopeResolver.routeScope(operation.trim(), principal), key);
	}

	private static Map<String, Object> describe(String recordKey, IdempotencyRecord record, boolean includeBody) {
		Map<String, Object> description = new LinkedHashMap<>();
		description.put("recordKey", recordKey);
		description.put("state", record.state().name().toLowerCase(Locale.ROOT));
		description.put("fingerprint", record.fingerprint());
		putIfPresent(description, "createdAt", record.createdAt());
		putIfPresent(description, "completedAt", record.completedAt());
		description.put("expiresAt", Instant.now().plus(record.expiresIn()));
		StoredResponse response = record.response();
		if (response != null) {
			Map<String, Object> stored = new LinkedHashMap<>();
			stored.put("status", response.status());
			stored.put("headers", response.headers());
			stored.put("bodySize", response.body().length);
			if (includeBody) {
				stored.put("body", new String(response.body(), StandardCharsets.UTF_8));
			}
			description.put("response", stored);
		}
		return description;
	}

	private static void putIfPresent(Map<String, Object> description, String name, @Nullable Object value) {
		if (value != null) {
			description.put(name, value);
		}
	}

}
