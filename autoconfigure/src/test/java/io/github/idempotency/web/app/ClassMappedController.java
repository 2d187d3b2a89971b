package io.github.idempotency.web.app;

import io.github.idempotency.annotation.Idempotent;

import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code @Idempotent} on a class whose mapping names the request method, PUT, which
 * {@code idempotency.methods} does not list: its handlers are not idempotent, and not
 * documented as such.
 */
@RestController
@RequestMapping(path = "/class-put", method = RequestMethod.PUT)
@Idempotent
public class ClassMappedController {

	private final Executions executions;

	public ClassMappedController(Executions executions) {
		this.executions = executions;
	}

	@RequestMapping("/item")
	String item(@RequestHeader("X-Test-Name") String name) {
		return "item run " + this.executions.record(name);
	}

}
