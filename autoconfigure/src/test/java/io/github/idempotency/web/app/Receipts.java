package io.github.idempotency.web.app;

import io.github.idempotency.annotation.Idempotent;

import org.springframework.stereotype.Service;

/**
 * An idempotent service a handler calls: its calls have records of their own, keyed by
 * the order item.
 */
@Service
public class Receipts {

	private final Executions executions;

	public Receipts(Executions executions) {
		this.executions = executions;
	}

	@Idempotent(key = "#item")
	public String issue(String item, String name) {
		return "receipt " + this.executions.record("receipt-" + name);
	}

}
