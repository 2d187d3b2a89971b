package io.github.idempotency.web.edge;

import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;

/**
 * An API described by an interface, as an OpenAPI generator writes one: the mappings are
 * the interface's, the idempotency the implementation's.
 */
public interface PaymentsApi {

	@PostMapping("/edge/api/payments")
	ResponseEntity<String> pay(@RequestHeader("X-Test-Name") String name, @RequestBody String body);

}
