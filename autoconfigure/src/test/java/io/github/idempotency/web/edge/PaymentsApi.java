package io.github.idempotency.web.edge;

import io.github.idempotency.annotation.Idempotent;

import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;

/**
 * An API described by an interface, as an OpenAPI generator writes one: the mappings are
 * the interface's, the idempotency the implementation's or the interface's.
 */
public interface PaymentsApi {

	@PostMapping("/edge/api/payments")
	ResponseEntity<String> pay(@RequestHeader("X-Test-Name") String name, @RequestBody String body);

	// Idempotent as the interface says, as a hand-written API may.
	@PostMapping("/edge/api/refunds")
	@Idempotent
	ResponseEntity<String> refund(@RequestHeader("X-Test-Name") String name, @RequestBody String body);

}
