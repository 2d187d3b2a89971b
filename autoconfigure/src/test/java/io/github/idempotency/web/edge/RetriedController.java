package io.github.idempotency.web.edge;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.web.app.Executions;
import jakarta.servlet.http.HttpServletRequest;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.ProxyMethodInvocation;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.annotation.ExceptionHandler;
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

	private final Refunds refunds;

	public RetriedController(Executions executions, Refunds refunds) {
		this.executions = executions;
		this.refunds = refunds;
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

	@PostMapping("/edge/declined")
	@Idempotent
	ResponseEntity<String> decline(@RequestHeader("X-Test-Name") String name, @RequestBody String body) {
		throw new IllegalArgumentException("Declined");
	}

	// Calls an idempotent method of another bean that has the failed handler's name and
	// parameters: its call is not the handler's, called again.
	@ExceptionHandler(IllegalArgumentException.class)
	ResponseEntity<String> refund(IllegalArgumentException ex, HttpServletRequest request) {
		return ResponseEntity.unprocessableEntity()
			.body(this.refunds.decline(request.getHeader("X-Test-Name"), "refund"));
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
	 * Refunds once per name, whatever key the request that asks for it has.
	 */
	@Component
	public static class Refunds {

		private final Executions executions;

		Refunds(Executions executions) {
			this.executions = executions;
		}

		@Idempotent(key = "#name")
		public String decline(String name, String body) {
			return body + " " + this.executions.record("refund " + name);
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
