package io.github.idempotency.web.edge;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.web.app.Executions;
import jakarta.servlet.http.HttpServletRequest;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * Implements {@link PaymentsApi}, and makes its payments idempotent; declines every
 * payment sent to {@code /edge/api/declined}, and refunds it.
 */
@RestController
public class PaymentsApiController implements PaymentsApi, Declines<ResponseEntity<String>> {

	private final Executions executions;

	private final Declines<String> refunds;

	public PaymentsApiController(Executions executions, Declines<String> refunds) {
		this.executions = executions;
		this.refunds = refunds;
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

	@Override
	@PostMapping("/edge/api/declined")
	@Idempotent
	public ResponseEntity<String> decline(@RequestHeader("X-Test-Name") String name, @RequestBody String body) {
		throw new IllegalArgumentException("Declined");
	}

	// Calls a method of another bean that implements the same interface as the failed
	// handler: its call is not the handler's, called again.
	@ExceptionHandler(IllegalArgumentException.class)
	ResponseEntity<String> refund(IllegalArgumentException ex, HttpServletRequest request) {
		return ResponseEntity.unprocessableEntity()
			.body(this.refunds.decline(request.getHeader("X-Test-Name"), "refund"));
	}

}
