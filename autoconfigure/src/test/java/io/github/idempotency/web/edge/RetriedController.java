package io.github.idempotency.web.edge;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.web.app.Executions;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.ProxyMethodInvocation;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * An idempotent handler that advice around it calls again when it throws, as Spring
 * Framework 7's {@code @Retryable} does from before every other advice: its first run
 * fails for a body that asks for it.
 */
@RestController
public class RetriedController {

	private final Executions executions;

	public RetriedController(Executions executions) {
		this.executions = executions;
	}

	@PostMapping("/edge/retried")
	@Idempotent
	@RetriedOnFailure
	ResponseEntity<String> pay(@RequestHeader("X-Test-Name") String name, @RequestBody String body) {
		int run = this.executions.record(name);
		if (run == 1 && body.equals("fails once")) {
			throw new IllegalStateException("The gateway timed out");
		}
		return ResponseEntity.status(HttpStatus.CREATED).body("paid " + body + " on run " + run);
	}

	/**
	 * Calls the method again when it throws, up to three times in all, through a copy of
	 * the invocation, as Spring's retry interceptors do.
	 */
	static @Nullable Object retry(MethodInvocation invocation) throws Throwable {
		for (int attempt = 1;; attempt++) {
			try {
				return ((ProxyMethodInvocation) invocation).invocableClone().proceed();
			}
			catch (RuntimeException ex) {
				if (attempt == 3) {
					throw ex;
				}
			}
		}
	}

	/**
	 * Marks the methods {@link #retry} advises.
	 */
	@Target(ElementType.METHOD)
	@Retention(RetentionPolicy.RUNTIME)
	@interface RetriedOnFailure {

	}

}
