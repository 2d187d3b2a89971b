package io.github.idempotency.web.edge;

import io.github.idempotency.annotation.Idempotent;

import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * An API whose interface is the controller: Spring MVC finds its implementation through
 * an interface-based proxy too, which shows the idempotency the interface declares.
 */
@RestController
public interface RefundsApi {

	@PostMapping("/edge/api/annotated/refunds")
	@Idempotent
	ResponseEntity<String> refund(@RequestHeader("X-Test-Name") String name, @RequestBody String body);

}
