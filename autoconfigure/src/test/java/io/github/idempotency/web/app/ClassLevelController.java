package io.github.idempotency.web.app;

import io.github.idempotency.annotation.Idempotent;

import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code @Idempotent} on the class covers every handler method, for the request methods
 * in {@code idempotency.methods}.
 */
@RestController
@Idempotent
public class ClassLevelController {

	private final Executions executions;

	public ClassLevelController(Executions executions) {
		this.executions = executions;
	}

	@PostMapping("/class-level/first")
	String first(@RequestHeader("X-Test-Name") String name) {
		return "first run " + this.executions.record(name);
	}

	@PostMapping("/class-level/second")
	String second(@RequestHeader("X-Test-Name") String name) {
		return "second run " + this.executions.record(name);
	}

	@PutMapping("/class-level/put")
	String put(@RequestHeader("X-Test-Name") String name) {
		return "put run " + this.executions.record(name);
	}

}
