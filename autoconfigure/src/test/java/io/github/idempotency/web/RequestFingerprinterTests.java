package io.github.idempotency.web;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.json.Jackson2JsonCanonicalizer;
import org.junit.jupiter.api.Test;

import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.web.servlet.HandlerMapping;

import static org.assertj.core.api.Assertions.assertThat;

class RequestFingerprinterTests {

	private final RequestFingerprinter fingerprinter = new RequestFingerprinter(new Jackson2JsonCanonicalizer());

	@Test
	void jsonBodiesDifferingOnlyInKeyOrderAndWhitespaceShouldMatch() {
		assertThat(json("{\"a\":1,\"b\":{\"c\":[1,2],\"d\":\"x\"}}"))
			.isEqualTo(json(" { \"b\" : { \"d\" : \"x\", \"c\" : [ 1, 2 ] },\n \"a\" : 1 } "));
	}

	@Test
	void jsonBodiesDifferingInArrayOrderShouldNotMatch() {
		assertThat(json("{\"c\":[1,2]}")).isNotEqualTo(json("{\"c\":[2,1]}"));
	}

	@Test
	void jsonNumbersBeyondDoublePrecisionShouldNotMatch() {
		assertThat(json("{\"amount\":0.1}")).isNotEqualTo(json("{\"amount\":0.10000000000000000001}"));
		assertThat(json("{\"amount\":9007199254740993}")).isNotEqualTo(json("{\"amount\":9007199254740992}"));
	}

	@Test
	void jsonWithDuplicateKeysShouldBeComparedAsBytes() {
		assertThat(json("{\"a\":1,\"a\":2}")).isNotEqualTo(json("{\"a\":2}"));
	}

	@Test
	void malformedJsonShouldBeComparedAsBytes() {
		assertThat(json("{\"a\":")).isEqualTo(json("{\"a\":")).isNotEqualTo(json("{\"a\": "));
	}

	@Test
	void nonJsonBodiesShouldBeComparedByteForByte() {
		assertThat(fingerprint(request("text/plain"), "{\"a\":1, \"b\":2}"))
			.isNotEqualTo(fingerprint(request("text/plain"), "{\"b\":2, \"a\":1}"));
	}

	@Test
	void queryParametersInAnyOrderShouldMatch() {
		MockHttpServletRequest first = request("application/json");
		first.setQueryString("a=1&b=2");
		MockHttpServletRequest second = request("application/json");
		second.setQueryString("b=2&a=1");
		MockHttpServletRequest third = request("application/json");
		third.setQueryString("b=2&a=3");
		assertThat(fingerprint(first, "{}")).isEqualTo(fingerprint(second, "{}"))
			.isNotEqualTo(fingerprint(third, "{}"));
	}

	@Test
	void pathVariablesShouldCount() {
		MockHttpServletRequest first = request("application/json");
		first.setAttribute(HandlerMapping.URI_TEMPLATE_VARIABLES_ATTRIBUTE, Map.of("id", "1"));
		MockHttpServletRequest second = request("application/json");
		second.setAttribute(HandlerMapping.URI_TEMPLATE_VARIABLES_ATTRIBUTE, Map.of("id", "2"));
		assertThat(fingerprint(first, "{}")).isNotEqualTo(fingerprint(second, "{}"));
	}

	// What a handler reads with @MatrixVariable counts; a path variable without any, or
	// a session id in the path, leaves the fingerprint as it was without them.
	@Test
	void matrixVariablesShouldCountButNotASessionId() {
		String without = fingerprint(request("application/json"), "{}");
		assertThat(fingerprint(withMatrix(Map.of()), "{}")).isEqualTo(without);
		assertThat(fingerprint(withMatrix(Map.of("jsessionid", "A1")), "{}")).isEqualTo(without);
		assertThat(fingerprint(withMatrix(Map.of("JSESSIONID", "B2")), "{}")).isEqualTo(without);
		String one = fingerprint(withMatrix(Map.of("quantity", "1")), "{}");
		assertThat(one).isNotEqualTo(without)
			.isNotEqualTo(fingerprint(withMatrix(Map.of("quantity", "100")), "{}"))
			.isEqualTo(fingerprint(withMatrix(Map.of("quantity", "1", "jsessionid", "C3")), "{}"));
	}

	private static MockHttpServletRequest withMatrix(Map<String, String> parameters) {
		MockHttpServletRequest request = request("application/json");
		LinkedMultiValueMap<String, String> values = new LinkedMultiValueMap<>();
		parameters.forEach(values::add);
		request.setAttribute(HandlerMapping.MATRIX_VARIABLES_ATTRIBUTE, Map.of("id", values));
		return request;
	}

	@Test
	void methodAndRouteShouldCount() {
		MockHttpServletRequest patch = request("application/json");
		patch.setMethod("PATCH");
		MockHttpServletRequest otherRoute = request("application/json");
		otherRoute.setAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE, "/refunds");
		String post = fingerprint(request("application/json"), "{}");
		assertThat(fingerprint(patch, "{}")).isNotEqualTo(post);
		assertThat(fingerprint(otherRoute, "{}")).isNotEqualTo(post);
	}

	@Test
	void fieldBoundariesShouldNotBeAmbiguous() {
		MockHttpServletRequest first = request("text/plain");
		first.setQueryString("a=bc");
		MockHttpServletRequest second = request("text/plain");
		second.setQueryString("ab=c");
		assertThat(fingerprint(first, "")).isNotEqualTo(fingerprint(second, ""));
	}

	@Test
	void queryParametersThatDifferShouldNotMatch() {
		assertDifferentQueries("flag", "flag=null");
		assertDifferentQueries("flag", "flag=");
		assertDifferentQueries("x", "=x");
		// Without the number of values, both would hash as a, 1, b, "".
		assertDifferentQueries("a=1&a=b&a=", "a=1&b=");
	}

	@Test
	void formParametersThatDifferOnlyInHowValuesAreGroupedShouldNotMatch() {
		MockHttpServletRequest first = request("application/x-www-form-urlencoded");
		first.addParameter("a", "1", "b", "");
		MockHttpServletRequest second = request("application/x-www-form-urlencoded");
		second.addParameter("a", "1");
		second.addParameter("b", "");
		assertThat(this.fingerprinter.fingerprint(first, null))
			.isNotEqualTo(this.fingerprinter.fingerprint(second, null));
	}

	private void assertDifferentQueries(String query, String other) {
		MockHttpServletRequest first = request("text/plain");
		first.setQueryString(query);
		MockHttpServletRequest second = request("text/plain");
		second.setQueryString(other);
		assertThat(fingerprint(first, "")).as(query + " against " + other).isNotEqualTo(fingerprint(second, ""));
	}

	@Test
	void recordKeyShouldBeFixedLengthHexAndDependOnScope() {
		String key = Hashing.recordKey("POST /orders", "{tag}\r\nDEL *");
		assertThat(key).matches("[0-9a-f]{64}");
		assertThat(Hashing.recordKey("POST /refunds", "{tag}\r\nDEL *")).isNotEqualTo(key);
	}

	private String json(String body) {
		return fingerprint(request("application/json"), body);
	}

	private String fingerprint(MockHttpServletRequest request, String body) {
		return this.fingerprinter.fingerprint(request, body.getBytes(StandardCharsets.UTF_8));
	}

	private static MockHttpServletRequest request(String contentType) {
		MockHttpServletRequest request = new MockHttpServletRequest("POST", "/orders");
		request.setContentType(contentType);
		request.setAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE, "/orders");
		return request;
	}

}
