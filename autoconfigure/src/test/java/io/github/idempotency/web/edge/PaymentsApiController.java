package io.github.idempotency.web.edge;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.web.app.Executions;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RestController;

/**
 * Implements {@link PaymentsApi}, and makes its payments idempotent.
 */
@RestController
public class PaymentsApiController implements PaymentsApi {

	private final Executions executions;

	public PaymentsApiController(Executions executions) {
		this.executions = executions;
	}

	@Override
	@Idempotent
	public ResponseEntity<String> pay(String name, String body) {
		return ResponseEntity.status(HttpStatus.CREATED)
			.body("paid " + body + " on run " + this.executions.record(name));
	}

	@Override
	public ResponseEntity<String> refund(String name, String body) {
		return ResponseEntity.ok("refunded " + body + " on run " + this.executions.record(name));
	}

}
