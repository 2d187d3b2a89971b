package io.github.idempotency.web;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.json.JsonCanonicalizer;
import jakarta.servlet.http.HttpServletRequest;
import org.jspecify.annotations.Nullable;

import org.springframework.http.MediaType;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import org.springframework.util.StringUtils;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.multipart.MultipartFile;
import org.springframework.web.multipart.MultipartHttpServletRequest;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.util.UrlPathHelper;
import org.springframework.web.util.WebUtils;

/**
 * Computes what makes two requests with the same key "the same request": a SHA-256 over
 * the method, the route pattern, the path variables, the query parameters and the body,
 * and, where another idempotent handler shares the route, the conditions of the mapping
 * that tell them apart (headers, parameters, media types).
 *
 * <p>
 * Query parameters are compared by name, in any order. A JSON body is compared in
 * canonical form, so that a client that re-serializes its retry with other key order or
 * whitespace is still recognised; any other body is compared byte for byte, and form data
 * by its parameters, and the files uploaded with it (multipart data Spring MVC resolved)
 * by their part name, file name, type and content. Thread-safe.
 *
 * @since 0.1.0
 */
public class RequestFingerprinter {

	// Never updated, only copied.
	private final @Nullable JsonCanonicalizer jsonCanonicalizer;

	private final Function<Method, @Nullable String> sharedRouteConditions;

	/**
	 * @param jsonCanonicalizer canonicalizes JSON bodies, or {@code null} to compare them
	 * byte for byte
	 */
	public RequestFingerprinter(@Nullable JsonCanonicalizer jsonCanonicalizer) {
		this(jsonCanonicalizer, (handler) -> null);
	}

	/**
	 * @param jsonCanonicalizer puts JSON bodies in canonical form; {@code null} compares
	 * them byte for byte
	 * @param sharedRouteConditions what tells an idempotent handler that shares its route
	 * with another one from that one, {@code null} for one that shares none
	 * ({@link IdempotentRequestMatcher#sharedRouteConditions}): a key sent to one and
	 * then to the other is then told apart
	 */
	public RequestFingerprinter(@Nullable JsonCanonicalizer jsonCanonicalizer,
			Function<Method, @Nullable String> sharedRouteConditions) {
		this.jsonCanonicalizer = jsonCanonicalizer;
		this.sharedRouteConditions = sharedRouteConditions;
	}

	/**
	 * Fingerprints a request whose handler has been chosen.
	 * @param request the request
	 * @param body the whole body, or {@code null} for form data that the container has
	 * parsed into parameters
	 * @return the fingerprint, as lower-case hex
	 */
	public String fingerprint(HttpServletRequest request, byte @Nullable [] body) {
		MessageDigest digest = Hashing.sha256();
		update(digest, request.getMethod());
		String pattern = String.valueOf(request.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE));
		update(digest, pattern);
		// A wildcard (/hooks/**) matches paths no variable names, so the pattern and its
		// variables would make /hooks/github and /hooks/stripe one request. The path,
		// decoded and without ";" parameters as in a retry's, tells them apart; only for
		// such patterns, so that every other fingerprint stays as it was.
		if (matchesUnnamedPaths(pattern)) {
			update(digest, "path");
			update(digest, UrlPathHelper.defaultInstance.getPathWithinApplication(request));
		}
		// Only then, so that the fingerprints of every other handler stay as they were.
		if (request.getAttribute(HandlerMapping.BEST_MATCHING_HANDLER_ATTRIBUTE) instanceof HandlerMethod handler) {
			String conditions = this.sharedRouteConditions.apply(handler.getMethod());
			if (conditions != null) {
				update(digest, "conditions");
				update(digest, conditions);
			}
		}
		if (request.getAttribute(HandlerMapping.URI_TEMPLATE_VARIABLES_ATTRIBUTE) instanceof Map<?, ?> variables) {
			new TreeMap<>(variables).forEach((name, value) -> {
				update(digest, String.valueOf(name));
				update(digest, String.valueOf(value));
			});
		}
		// Parameters of a path segment (";qty=2"), which a handler reads with
		// @MatrixVariable; only where there are any, so that other fingerprints stay
		// as they were.
		Map<String, Map<String, List<@Nullable String>>> matrix = matrixVariables(request);
		if (!matrix.isEmpty()) {
			update(digest, "matrix");
			matrix.forEach((variable, parameters) -> {
				update(digest, variable);
				parameters.forEach((name, values) -> updateParameter(digest, name, values));
			});
		}
		update(digest, "?");
		updateSorted(digest, queryParameters(request.getQueryString()));
		update(digest, "body");
		if (body != null) {
			update(digest, canonicalBody(request, body));
		}
		else {
			request.getParameterMap()
				.entrySet()
				.stream()
				.sorted(Map.Entry.comparingByKey())
				.forEach((entry) -> updateParameter(digest, entry.getKey(), Arrays.asList(entry.getValue())));
			MultipartHttpServletRequest multipart = WebUtils.getNativeRequest(request,
					MultipartHttpServletRequest.class);
			if (multipart != null) {
				updateFiles(digest, multipart.getMultiFileMap());
			}
		}
		return Hashing.hex(digest.digest());
	}

	// Whether the pattern has a wildcard outside its variables ("*", "**", "?"); a
	// variable, "{id}" or "{*rest}", names what it matches.
	private static boolean matchesUnnamedPaths(String pattern) {
		int depth = 0;
		for (int i = 0; i < pattern.length(); i++) {
			char c = pattern.charAt(i);
			if (c == '{') {
				depth++;
			}
			else if (c == '}') {
				depth = Math.max(0, depth - 1);
			}
			else if (depth == 0 && (c == '*' || c == '?')) {
				return true;
			}
		}
		return false;
	}

	// Spring MVC keeps them by path variable, each a MultiValueMap of names to values.
	// A session id in the path (";jsessionid=...", the container's URL rewriting) is
	// not the request's: a retry may carry another, or none.
	private static Map<String, Map<String, List<@Nullable String>>> matrixVariables(HttpServletRequest request) {
		if (!(request.getAttribute(HandlerMapping.MATRIX_VARIABLES_ATTRIBUTE) instanceof Map<?, ?> variables)
				|| variables.isEmpty()) {
			return Map.of();
		}
		Map<String, Map<String, List<@Nullable String>>> matrix = new TreeMap<>();
		variables.forEach((variable, parameters) -> {
			if (parameters instanceof Map<?, ?> named) {
				Map<String, List<@Nullable String>> values = new TreeMap<>();
				named.forEach((name, value) -> {
					if (!"jsessionid".equalsIgnoreCase(String.valueOf(name)) && value instanceof List<?> list) {
						values.put(String.valueOf(name),
								list.stream().map((item) -> (item != null) ? item.toString() : null).toList());
					}
				});
				if (!values.isEmpty()) {
					matrix.put(String.valueOf(variable), values);
				}
			}
		});
		return matrix;
	}

	// Files are not parameters. Each is told by its part's name, its file name and type
	// as sent, and a digest of its content, read from where the container keeps it.
	private static void updateFiles(MessageDigest digest, MultiValueMap<String, MultipartFile> files) {
		update(digest, "files");
		new TreeMap<>(files).forEach((name, parts) -> {
			update(digest, name);
			updateLength(digest, parts.size());
			for (MultipartFile file : parts) {
				updateNullable(digest, file.getOriginalFilename());
				updateNullable(digest, file.getContentType());
				update(digest, contentDigest(file));
			}
		});
	}

	private static byte[] contentDigest(MultipartFile file) {
		MessageDigest digest = Hashing.sha256();
		try (InputStream content = new DigestInputStream(file.getInputStream(), digest)) {
			content.transferTo(OutputStream.nullOutputStream());
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not read the uploaded file of part '" + file.getName() + "'", ex);
		}
		return digest.digest();
	}

	private static void updateNullable(MessageDigest digest, @Nullable String value) {
		if (value != null) {
			update(digest, value);
		}
		else {
			updateLength(digest, -1);
		}
	}

	private byte[] canonicalBody(HttpServletRequest request, byte[] body) {
		if (this.jsonCanonicalizer == null || body.length == 0 || !isJson(request.getContentType())) {
			return body;
		}
		try {
			return this.jsonCanonicalizer.canonicalize(body);
		}
		catch (IllegalArgumentException ex) {
			return body;
		}
	}

	private static boolean isJson(@Nullable String contentType) {
		if (contentType == null) {
			return false;
		}
		try {
			MediaType type = MediaType.parseMediaType(contentType);
			return type.isCompatibleWith(MediaType.APPLICATION_JSON) || type.getSubtype().endsWith("+json");
		}
		catch (IllegalArgumentException ex) {
			return false;
		}
	}

	// As sent, not decoded. A pair without "=" has no value, which differs from an empty
	// one; a pair that starts with "=" has an empty name.
	private static MultiValueMap<String, @Nullable String> queryParameters(@Nullable String query) {
		MultiValueMap<String, @Nullable String> parameters = new LinkedMultiValueMap<>();
		if (query == null || query.isEmpty()) {
			return parameters;
		}
		for (String pair : StringUtils.delimitedListToStringArray(query, "&")) {
			if (pair.isEmpty()) {
				continue;
			}
			int equals = pair.indexOf('=');
			if (equals < 0) {
				parameters.add(pair, null);
			}
			else {
				parameters.add(pair.substring(0, equals), pair.substring(equals + 1));
			}
		}
		return parameters;
	}

	private static void updateSorted(MessageDigest digest, MultiValueMap<String, @Nullable String> parameters) {
		new TreeMap<String, List<@Nullable String>>(parameters)
			.forEach((name, values) -> updateParameter(digest, name, values));
	}

	// The number of values first, and a missing value apart from every string, so that no
	// two different sets of parameters can produce the same input.
	private static void updateParameter(MessageDigest digest, String name, List<@Nullable String> values) {
		update(digest, name);
		updateLength(digest, values.size());
		for (String value : values) {
			updateNullable(digest, value);
		}
	}

	private static void update(MessageDigest digest, String value) {
		update(digest, value.getBytes(StandardCharsets.UTF_8));
	}

	// Length-prefixed, so that no two different sequences of fields can produce the same
	// input.
	private static void update(MessageDigest digest, byte[] value) {
		updateLength(digest, value.length);
		digest.update(value);
	}

	private static void updateLength(MessageDigest digest, int length) {
		digest.update(
				new byte[] { (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length });
	}

}
