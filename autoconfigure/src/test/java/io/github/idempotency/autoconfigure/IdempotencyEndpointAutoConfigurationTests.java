package io.github.idempotency.autoconfigure;

import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.actuate.IdempotencyEndpoint;
import org.jspecify.annotations.Nullable;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A stored response may hold what the API returned to its clients: the endpoint shows its
 * values (header values, the body) only where
 * {@code management.endpoint.idempotency.show-values} allows, never by default.
 */
class IdempotencyEndpointAutoConfigurationTests {

	private static final String RECORD_KEY = "a".repeat(64);

	private static final List<String> SHOWN = List.of("{\"id\":1}", "/payments/1");

	private static final List<String> HIDDEN = List.of("******", "******");

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(
				AutoConfigurations.of(IdempotencyAutoConfiguration.class, IdempotencyEndpointAutoConfiguration.class))
		.withPropertyValues("idempotency.store=memory", "management.endpoints.web.exposure.include=idempotency");

	@Test
	void valuesShouldBeHiddenByDefaultEvenFromAnAuthenticatedUser() {
		this.runner.run((context) -> assertThat(values(context.getBean(IdempotencyEndpoint.class),
				context.getBean(IdempotencyStore.class), user("alice", "ADMIN")))
			.isEqualTo(HIDDEN));
	}

	@Test
	void valuesShouldBeShownWhenAlwaysAllowed() {
		this.runner.withPropertyValues("management.endpoint.idempotency.show-values=always")
			.run((context) -> assertThat(values(context.getBean(IdempotencyEndpoint.class),
					context.getBean(IdempotencyStore.class), SecurityContext.NONE))
				.isEqualTo(SHOWN));
	}

	@Test
	void valuesShouldBeShownWhenAuthorizedOnlyToTheRolesListed() {
		this.runner
			.withPropertyValues("management.endpoint.idempotency.show-values=when-authorized",
					"management.endpoint.idempotency.roles=AUDITOR")
			.run((context) -> {
				IdempotencyEndpoint endpoint = context.getBean(IdempotencyEndpoint.class);
				IdempotencyStore store = context.getBean(IdempotencyStore.class);
				assertThat(values(endpoint, store, user("alice", "AUDITOR"))).isEqualTo(SHOWN);
				assertThat(values(endpoint, store, user("bob", "USER"))).isEqualTo(HIDDEN);
				assertThat(values(endpoint, store, SecurityContext.NONE)).isEqualTo(HIDDEN);
			});
	}

	@Test
	@SuppressWarnings("unchecked")
	void bodyThatIsNotTextShouldBeShownInBase64() {
		byte[] gzipped = { 0x1f, (byte) 0x8b, 0x08, 0x00, (byte) 0xff, (byte) 0xfe };
		this.runner.withPropertyValues("management.endpoint.idempotency.show-values=always").run((context) -> {
			IdempotencyStore store = context.getBean(IdempotencyStore.class);
			String token = ((ClaimResult.Claimed) store.claim(RECORD_KEY, "fingerprint", Duration.ofMinutes(1)))
				.token();
			store.complete(RECORD_KEY, token, new StoredResponse(200, Map.of(), gzipped), Duration.ofMinutes(1));
			Map<String, Object> response = (Map<String, Object>) context.getBean(IdempotencyEndpoint.class)
				.record(RECORD_KEY, true, SecurityContext.NONE)
				.get("response");
			assertThat(response).doesNotContainKey("body")
				.containsEntry("bodyBase64", Base64.getEncoder().encodeToString(gzipped));
		});
	}

	// The body and the Location header's value, as the endpoint shows them.
	@SuppressWarnings("unchecked")
	private static List<@Nullable Object> values(IdempotencyEndpoint endpoint, IdempotencyStore store,
			SecurityContext securityContext) {
		ClaimResult claim = store.claim(RECORD_KEY, "fingerprint", Duration.ofMinutes(1));
		if (claim instanceof ClaimResult.Claimed claimed) {
			store.complete(RECORD_KEY, claimed.token(), new StoredResponse(201,
					Map.of("Location", List.of("/payments/1")), "{\"id\":1}".getBytes(StandardCharsets.UTF_8)),
					Duration.ofMinutes(1));
		}
		Map<String, Object> record = endpoint.record(RECORD_KEY, true, securityContext);
		assertThat(record).isNotNull();
		assertThat(endpoint.record(RECORD_KEY, null, securityContext)).extractingByKey("response")
			.asInstanceOf(InstanceOfAssertFactories.MAP)
			.doesNotContainKey("body");
		Map<String, Object> response = (Map<String, Object>) record.get("response");
		Map<String, List<String>> headers = (Map<String, List<String>>) response.get("headers");
		return Arrays.asList(response.get("body"), headers.get("Location").get(0));
	}

	private static SecurityContext user(String name, String role) {
		return new SecurityContext() {

			@Override
			public Principal getPrincipal() {
				return () -> name;
			}

			@Override
			public boolean isUserInRole(String asked) {
				return List.of(role, "ROLE_" + role).contains(asked);
			}

		};
	}

}
