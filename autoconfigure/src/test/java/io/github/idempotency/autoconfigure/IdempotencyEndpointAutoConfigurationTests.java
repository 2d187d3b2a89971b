package io.github.idempotency.autoconfigure;

import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.time.Duration;
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
 * A stored body may hold what the API returned to its clients: the endpoint shows it only
 * where {@code management.endpoint.idempotency.show-values} allows, never by default.
 */
class IdempotencyEndpointAutoConfigurationTests {

	private static final String RECORD_KEY = "a".repeat(64);

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(
				AutoConfigurations.of(IdempotencyAutoConfiguration.class, IdempotencyEndpointAutoConfiguration.class))
		.withPropertyValues("idempotency.store=memory", "management.endpoints.web.exposure.include=idempotency");

	@Test
	void bodyShouldBeHiddenByDefaultEvenFromAnAuthenticatedUser() {
		this.runner.run((context) -> assertThat(body(context.getBean(IdempotencyEndpoint.class),
				context.getBean(IdempotencyStore.class), user("alice", "ADMIN")))
			.isEqualTo("******"));
	}

	@Test
	void bodyShouldBeShownWhenAlwaysAllowed() {
		this.runner.withPropertyValues("management.endpoint.idempotency.show-values=always")
			.run((context) -> assertThat(body(context.getBean(IdempotencyEndpoint.class),
					context.getBean(IdempotencyStore.class), SecurityContext.NONE))
				.isEqualTo("{\"id\":1}"));
	}

	@Test
	void bodyShouldBeShownWhenAuthorizedOnlyToTheRolesListed() {
		this.runner
			.withPropertyValues("management.endpoint.idempotency.show-values=when-authorized",
					"management.endpoint.idempotency.roles=AUDITOR")
			.run((context) -> {
				IdempotencyEndpoint endpoint = context.getBean(IdempotencyEndpoint.class);
				IdempotencyStore store = context.getBean(IdempotencyStore.class);
				assertThat(body(endpoint, store, user("alice", "AUDITOR"))).isEqualTo("{\"id\":1}");
				assertThat(body(endpoint, store, user("bob", "USER"))).isEqualTo("******");
				assertThat(body(endpoint, store, SecurityContext.NONE)).isEqualTo("******");
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

	@SuppressWarnings("unchecked")
	private static @Nullable Object body(IdempotencyEndpoint endpoint, IdempotencyStore store,
			SecurityContext securityContext) {
		ClaimResult claim = store.claim(RECORD_KEY, "fingerprint", Duration.ofMinutes(1));
		if (claim instanceof ClaimResult.Claimed claimed) {
			store.complete(RECORD_KEY, claimed.token(),
					new StoredResponse(201, Map.of(), "{\"id\":1}".getBytes(StandardCharsets.UTF_8)),
					Duration.ofMinutes(1));
		}
		Map<String, Object> record = endpoint.record(RECORD_KEY, true, securityContext);
		assertThat(record).isNotNull();
		assertThat(endpoint.record(RECORD_KEY, null, securityContext)).extractingByKey("response")
			.asInstanceOf(InstanceOfAssertFactories.MAP)
			.doesNotContainKey("body");
		return ((Map<String, Object>) record.get("response")).get("body");
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
