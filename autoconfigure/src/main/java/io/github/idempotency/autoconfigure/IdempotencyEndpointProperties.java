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
	 * When the values of a stored response, its header values and its body (asked for
	 * with body=true), are shown: never (each says ******), always, or when-authorized
	 * (to an authenticated user with one of the roles, or any authenticated user when no
	 * role is listed; over JMX, to no one). They may hold what the API returned to its
	 * clients.
	 */
	private Show showValues = Show.NEVER;

	/**
	 * Roles that may see stored values when show-values is when-authorized. Any
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
