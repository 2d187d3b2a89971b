package io.github.idempotency.web.edge;

import io.github.idempotency.web.app.Executions;

import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;

/**
 * Implements {@link RefundsApi}.
 */
@Component
public class RefundsApiController implements RefundsApi {

	private final Executions executions;

	public RefundsApiController(Executions executions) {
		this.executions = executions;
	}

	@Override
	public ResponseEntity<String> refund(String name, String body) {
		return ResponseEntity.ok("refunded " + body + " on run " + this.executions.record(name));
	}

}
