package io.github.idempotency.web.edge;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.web.app.Executions;

import org.springframework.stereotype.Component;

/**
 * Refunds a declined payment once per name, whatever key the request that asks for it
 * has. Proxied by its interface where the application asks for interface-based proxies.
 */
@Component
public class DeclinedRefunds implements Declines<String> {

	private final Executions executions;

	DeclinedRefunds(Executions executions) {
		this.executions = executions;
	}

	@Override
	@Idempotent(key = "#name")
	public String decline(String name, String body) {
		return body + " " + this.executions.record("refund " + name);
	}

}
