package io.github.idempotency.web.app;

import io.github.idempotency.annotation.Idempotent;

import org.springframework.context.annotation.Lazy;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * An idempotent handler that its proxy cannot intercept, on a lazy bean, so that only a
 * request can find out.
 */
@RestController
@Lazy
public class LazyFinalController {

	private final Executions executions;

	public LazyFinalController(Executions executions) {
		this.executions = executions;
	}

	@PostMapping("/lazy-final")
	@Idempotent
	public final String pay(@RequestHeader("X-Test-Name") String name) {
		return "run " + this.executions.record(name);
	}

}
