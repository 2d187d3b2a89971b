package io.github.idempotency.actuate;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.IdempotencyRecord;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.UnreadableRecordException;
import io.github.idempotency.web.IdempotencyScopeResolver;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.Show;
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
 * latter works for HTTP operations under the default scope rule only. The stored values
 * (header values, and the body when asked for) and the fingerprint are shown only where
 * {@code management.endpoint.idempotency.show-values} allows it ({@code never} by
 * default, as Spring Boot's own endpoints show values; {@code when-authorized} shows them
 * to no one over JMX, which knows no user): they may hold what the API returned to its
 * clients, and guesses at what a request held can be tried against its fingerprint. A
 * record the store cannot read is described as {@code unreadable}, with the reason.
 * Reading is allowed by default; deleting only once
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

	private static final String HIDDEN = "******";

	private static final Pattern RECORD_KEY = Pattern.compile("[0-9a-f]{64}");

	private final IdempotencyStore store;

	private final Show showValues;

	private final Set<String> roles;

	/**
	 * @param store the store the records are in
	 * @param showValues when stored header values and a stored body asked for are shown
	 * @param roles the roles that may see them when {@code showValues} is
	 * {@link Show#WHEN_AUTHORIZED} (any authenticated user, if none)
	 */
	public IdempotencyEndpoint(IdempotencyStore store, Show showValues, Set<String> roles) {
		this.store = store;
		this.showValues = showValues;
		this.roles = Set.copyOf(roles);
	}

	/**
	 * Reads a record by operation and key:
	 * {@code GET /actuator/idempotency?operation=POST /payments&key=abc}.
	 * @param operation the request method and route pattern, as the metrics tag it
	 * @param key the client's idempotency key
	 * @param principal the authenticated user's name, if the request was authenticated
	 * @param body whether to include the stored body
	 * @param securityContext who asks, for {@link Show#WHEN_AUTHORIZED}
	 * @return the record, or {@code null} (404) if there is none
	 */
	@ReadOperation
	public @Nullable Map<String, Object> recordByKey(String operation, String key,
			@org.springframework.lang.Nullable String principal, @org.springframework.lang.Nullable Boolean body,
			SecurityContext securityContext) {
		return record(recordKey(operation, key, principal), body, securityContext);
	}

	/**
	 * Reads a record by record key: {@code GET /actuator/idempotency/{recordKey}}.
	 * @param recordKey the record key
	 * @param body whether to include the stored body
	 * @param securityContext who asks, for {@link Show#WHEN_AUTHORIZED}
	 * @return the record, or {@code null} (404) if there is none
	 */
	@ReadOperation
	public @Nullable Map<String, Object> record(@Selector String recordKey,
			@org.springframework.lang.Nullable Boolean body, SecurityContext securityContext) {
		boolean shown = this.showValues.isShown(securityContext, this.roles);
		boolean withBody = Boolean.TRUE.equals(body);
		try {
			return this.store.find(checked(recordKey))
				.map((record) -> describe(recordKey, record, shown, withBody))
				.orElse(null);
		}
		// What the logs tell operators to look at, and to delete once they know where it
		// came from.
		catch (UnreadableRecordException ex) {
			Map<String, Object> description = new LinkedHashMap<>();
			description.put("recordKey", recordKey);
			description.put("state", "unreadable");
			description.put("reason", ex.getMessage());
			return description;
		}
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
		return Map.of("recordKey", recordKey, "deleted", this.store.delete(checked(recordKey)));
	}

	// Anything else names no record the starter made, but may name other data under the
	// same key prefix.
	private static String checked(String recordKey) {
		if (!RECORD_KEY.matcher(recordKey).matches()) {
			throw new InvalidEndpointRequestException("A record key is the 64 hex characters the logs print",
					"Not a record key");
		}
		return recordKey;
	}

	private static String recordKey(String operation, String key, @Nullable String principal) {
		return Hashing.recordKey(IdempotencyScopeResolver.routeScope(operation.trim(), principal), key);
	}

	private static Map<String, Object> describe(String recordKey, IdempotencyRecord record, boolean shown,
			boolean withBody) {
		Map<String, Object> description = new LinkedHashMap<>();
		description.put("recordKey", recordKey);
		description.put("state", record.state().name().toLowerCase(Locale.ROOT));
		// A hash of the request (or the arguments), against which guesses at what it held
		// can be tried.
		description.put("fingerprint", shown ? record.fingerprint() : HIDDEN);
		putIfPresent(description, "createdAt", record.createdAt());
		putIfPresent(description, "completedAt", record.completedAt());
		description.put("expiresAt", Instant.now().plus(record.expiresIn()));
		StoredResponse response = record.response();
		if (response != null) {
			Map<String, Object> stored = new LinkedHashMap<>();
			stored.put("status", response.status());
			stored.put("headers", shown ? response.headers() : hidden(response.headers()));
			stored.put("bodySize", response.body().length);
			if (withBody && shown) {
				String text = text(response.body());
				if (text != null) {
					stored.put("body", text);
				}
				else {
					stored.put("bodyBase64", Base64.getEncoder().encodeToString(response.body()));
				}
			}
			else if (withBody) {
				stored.put("body", HIDDEN);
			}
			description.put("response", stored);
		}
		return description;
	}

	private static Map<String, List<String>> hidden(Map<String, List<String>> headers) {
		Map<String, List<String>> hidden = new LinkedHashMap<>();
		headers.forEach((name, values) -> hidden.put(name, List.of(HIDDEN)));
		return hidden;
	}

	// A body that is not UTF-8 text (compressed, an image) would come out mangled as
	// text.
	private static @Nullable String text(byte[] body) {
		try {
			return StandardCharsets.UTF_8.newDecoder()
				.onMalformedInput(CodingErrorAction.REPORT)
				.onUnmappableCharacter(CodingErrorAction.REPORT)
				.decode(ByteBuffer.wrap(body))
				.toString();
		}
		catch (CharacterCodingException ex) {
			return null;
		}
	}

	private static void putIfPresent(Map<String, Object> description, String name, @Nullable Object value) {
		if (value != null) {
			description.put(name, value);
		}
	}

}
