package io.github.idempotency.autoconfigure;

import java.util.LinkedHashSet;
import java.util.Set;

import org.springframework.boot.actuate.endpoint.Show;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of the {@code idempotency} Actuator endpoint beside those Spring Boot gives
 * every endpoint ({@code access}).
 *
 * @since 0.1.0
 */
@ConfigurationProperties("management.endpoint.idempotency")
public class IdempotencyEndpointProperties {

	/**
	 * When a stored response body, asked for with body=true, is shown: never (its place
	 * says ******), always, or when-authorized (to an authenticated user with one of the
	 * roles, or any authenticated user when no role is listed). A body may hold what the
	 * API returned to its clients.
	 */
	private Show showValues = Show.NEVER;

	/**
	 * Roles that may see stored bodies when show-values is when-authorized. Any
	 * authenticated user when empty.
	 */
	private Set<String> roles = new LinkedHashSet<>();

	public Show getShowValues() {
		return this.showValues;
	}

	public void setShowValues(Show showValues) {
		this.showValues = showValues;
	}

	public Set<String> getRoles() {
		return this.roles;
	}

	public void setRoles(Set<String> roles) {
		this.roles = roles;
	}

}
