package io.github.idempotency.web.edge;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.web.app.Executions;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.constraints.Min;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.validation.annotation.Validated;
import org.springframework.web.bind.WebDataBinder;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.InitBinder;
import org.springframework.web.bind.annotation.ModelAttribute;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;

/**
 * A class-level {@code @Idempotent} on a controller validated by method validation, with
 * the binder, model and exception-handler methods real controllers have.
 */
@RestController
@RequestMapping("/edge/validated")
@Validated
@Idempotent
public class ValidatedController {

	private final Executions executions;

	public ValidatedController(Executions executions) {
		this.executions = executions;
	}

	@InitBinder
	public void initBinder(WebDataBinder binder) {
		binder.setAutoGrowNestedPaths(false);
	}

	@ModelAttribute("channel")
	public String channel() {
		return "web";
	}

	@PostMapping
	public String order(@RequestHeader("X-Test-Name") String name, @RequestParam @Min(1) int quantity) {
		return quantity + " ordered, run " + this.executions.record(name);
	}

	@ExceptionHandler(ConstraintViolationException.class)
	public ResponseEntity<String> invalid(ConstraintViolationException ex) {
		return ResponseEntity.status(HttpStatus.BAD_REQUEST).body("invalid quantity");
	}

	@ExceptionHandler(MethodArgumentTypeMismatchException.class)
	public ResponseEntity<String> notANumber(MethodArgumentTypeMismatchException ex) {
		return ResponseEntity.status(HttpStatus.BAD_REQUEST).body("quantity is not a number");
	}

}
