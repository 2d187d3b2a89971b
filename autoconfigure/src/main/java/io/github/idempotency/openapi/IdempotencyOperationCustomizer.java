package io.github.idempotency.openapi;

import java.lang.reflect.AnnotatedElement;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.github.idempotency.interceptor.IdempotentOperation;
import io.github.idempotency.interceptor.IdempotentOperationSource;
import io.github.idempotency.web.IdempotencyProblem;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.parameters.HeaderParameter;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springdoc.core.customizers.OperationCustomizer;

import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.method.HandlerMethod;

/**
 * Documents every {@code @Idempotent} operation in the OpenAPI description springdoc
 * generates: the key header (or, for keys computed from the body, a note), and the 400,
 * 409 and 422 problem responses the starter may give. A key header and responses the
 * application documents itself are left as they are; other operations are untouched.
 *
 * <p>
 * A class-level annotation covers a handler for some request methods only, and springdoc
 * makes an operation for each method the handler is mapped to without telling which: an
 * operation of such a handler is documented once the whole description is built, when its
 * method is known. So this is an {@link OpenApiCustomizer} too.
 *
 * @since 0.1.0
 */
public class IdempotencyOperationCustomizer implements OperationCustomizer, OpenApiCustomizer {

	// Marks an operation whose request method decides whether it is idempotent, from the
	// operation's customizing until the description's.
	private static final String PENDING = "x-idempotency-pending";

	private final IdempotentOperationSource operations;

	private final String defaultHeaderName;

	private final int maxKeyLength;

	private final Set<String> classLevelMethods;

	private final String replayedHeaderName;

	/**
	 * @param operations tells which handlers are idempotent
	 * @param defaultHeaderName the key header of operations that do not name their own
	 * @param maxKeyLength the longest key accepted
	 * @param classLevelMethods the request methods a class-level annotation covers, upper
	 * case
	 * @param replayedHeaderName the header that marks a replay
	 */
	public IdempotencyOperationCustomizer(IdempotentOperationSource operations, String defaultHeaderName,
			int maxKeyLength, Set<String> classLevelMethods, String replayedHeaderName) {
		this.operations = operations;
		this.defaultHeaderName = defaultHeaderName;
		this.maxKeyLength = maxKeyLength;
		this.classLevelMethods = Set.copyOf(classLevelMethods);
		this.replayedHeaderName = replayedHeaderName;
	}

	@Override
	public Operation customize(Operation operation, HandlerMethod handlerMethod) {
		IdempotentOperation idempotent = this.operations.getOperation(handlerMethod.getMethod(),
				handlerMethod.getBeanType());
		if (idempotent == null) {
			return operation;
		}
		if (idempotent.declaredOnMethod()) {
			return document(operation, idempotent);
		}
		Set<RequestMethod> mapped = mappedMethods(handlerMethod);
		long covered = mapped.stream().filter((method) -> this.classLevelMethods.contains(method.name())).count();
		if (!mapped.isEmpty() && covered == mapped.size()) {
			return document(operation, idempotent);
		}
		// Mapped to no method in particular, or to some the class's annotation covers
		// and some it does not.
		if (mapped.isEmpty() || covered > 0) {
			operation.addExtension(PENDING, idempotent);
		}
		return operation;
	}

	@Override
	public void customise(OpenAPI openApi) {
		if (openApi.getPaths() == null) {
			return;
		}
		for (PathItem path : openApi.getPaths().values()) {
			path.readOperationsMap().forEach((method, operation) -> {
				if (operation.getExtensions() != null
						&& operation.getExtensions().remove(PENDING) instanceof IdempotentOperation idempotent) {
					if (operation.getExtensions().isEmpty()) {
						operation.setExtensions(null);
					}
					if (this.classLevelMethods.contains(method.name())) {
						document(operation, idempotent);
					}
				}
			});
		}
	}

	private Operation document(Operation operation, IdempotentOperation idempotent) {
		String headerName = (idempotent.headerName() != null) ? idempotent.headerName() : this.defaultHeaderName;
		if (idempotent.keyExpression() == null && !documentsHeader(operation, headerName)) {
			operation.addParametersItem(new HeaderParameter().name(headerName)
				.required(idempotent.required())
				.description("Unique key of this operation, reused unchanged for every retry of it. A retry with the"
						+ " same key and payload receives the first response again, marked " + this.replayedHeaderName
						+ ": true.")
				.schema(new StringSchema().minLength(1).maxLength(this.maxKeyLength)));
		}
		else if (idempotent.keyExpression() != null) {
			String note = "Idempotent: retries are recognised by a key taken from the request body.";
			operation.setDescription(
					(operation.getDescription() != null) ? operation.getDescription() + "\n\n" + note : note);
		}
		ApiResponses responses = (operation.getResponses() != null) ? operation.getResponses() : new ApiResponses();
		addProblem(responses, "400", "The idempotency key is missing or malformed.", IdempotencyProblem.KEY_MISSING);
		addProblem(responses, "409",
				"A request with this idempotency key is still being processed; retry unchanged" + " after Retry-After.",
				IdempotencyProblem.REQUEST_IN_PROGRESS);
		addProblem(responses, "422", "The idempotency key was already used for a different request.",
				IdempotencyProblem.KEY_MISMATCH);
		operation.setResponses(responses);
		return operation;
	}

	// A class's annotation covers only some request methods; a handler runs unprotected
	// for the others, and must not be documented as idempotent for them. Its methods are
	// those of its own mapping and its class's together, none for one that accepts any.
	private static Set<RequestMethod> mappedMethods(HandlerMethod handlerMethod) {
		Set<RequestMethod> mapped = EnumSet.noneOf(RequestMethod.class);
		for (AnnotatedElement element : List.of(handlerMethod.getMethod(), handlerMethod.getBeanType())) {
			RequestMapping mapping = AnnotatedElementUtils.findMergedAnnotation(element, RequestMapping.class);
			if (mapping != null) {
				mapped.addAll(Arrays.asList(mapping.method()));
			}
		}
		return mapped;
	}

	// A handler that reads the key itself (@RequestHeader), or documents it: a second
	// parameter of the same name and location would make the description invalid.
	private static boolean documentsHeader(Operation operation, String headerName) {
		return operation.getParameters() != null && operation.getParameters()
			.stream()
			.anyMatch((parameter) -> "header".equals(parameter.getIn())
					&& headerName.equalsIgnoreCase(parameter.getName()));
	}

	private static void addProblem(ApiResponses responses, String status, String description,
			IdempotencyProblem example) {
		if (responses.containsKey(status)) {
			return;
		}
		Schema<?> problem = new ObjectSchema().properties(Map.of("type", new StringSchema().example(example.type()),
				"title", new StringSchema(), "status", new IntegerSchema(), "detail", new StringSchema(), "instance",
				new StringSchema(), "code", new StringSchema().example(example.code())));
		responses.addApiResponse(status, new ApiResponse().description(description)
			.content(new Content().addMediaType("application/problem+json", new MediaType().schema(problem))));
	}

}
