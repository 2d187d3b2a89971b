package io.github.idempotency.web.app;

import io.github.idempotency.annotation.Idempotent;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * {@code @Idempotent} on the class covers every handler method, for the request methods
 * in {@code idempotency.methods}; handlers mapped to other methods only are left alone.
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

	// Not covered: a stream of events, which an idempotent handler could not be, and a
	// final method, which no proxy reaches, start all the same.
	@GetMapping("/class-level/events")
	SseEmitter events() {
		SseEmitter emitter = new SseEmitter();
		emitter.complete();
		return emitter;
	}

	@GetMapping("/class-level/read")
	final String read() {
		return "read";
	}

	// Mapped to two request methods, of which the class's annotation covers one.
	@RequestMapping(path = "/class-level/either", method = { RequestMethod.POST, RequestMethod.PUT })
	String either(@RequestHeader("X-Test-Name") String name) {
		return "either run " + this.executions.record(name);
	}

	@PutMapping("/class-level/put")
	String put(@RequestHeader("X-Test-Name") String name) {
		return "put run " + this.executions.record(name);
	}

}
