package io.github.idempotency.web;

import java.lang.reflect.Method;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import io.github.idempotency.web.edge.EdgeApplication;
import io.github.idempotency.web.edge.RoutingController;
import io.github.idempotency.web.edge.SignedBodyCheck;
import jakarta.servlet.RequestDispatcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.util.ReflectionUtils;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Which requests the starter prepares: only those that may reach an idempotent handler
 * are wrapped, every other one passes through untouched, and an idempotent handler that a
 * request reaches unprepared refuses it rather than run unprotected.
 */
@SpringBootTest(classes = EdgeApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "idempotency.key-prefix=routing-test")
class RequestRoutingTests extends AbstractWebTests {

	@Autowired
	private IdempotentRequestMatcher matcher;

	@Autowired
	@Qualifier("requestMappingHandlerMapping")
	private RequestMappingHandlerMapping mappings;

	@Autowired
	private RoutingController controller;

	@Test
	void requestToAnOrdinaryHandlerShouldPassUntouched() {
		HttpResponse<byte[]> response = this.http.post(path("/routing/plain")).key(this.key).json("{}").send();

		assertThat(TestHttp.text(response)).startsWith("wrappers ").doesNotContain("Swappable");
	}

	// Handlers that share a route share its scope: a key sent to one and then to the
	// other
	// is a key reused for another request.
	@Test
	void keyOfOneHandlerSentToAnotherOnTheSameRouteShouldBeRefused() throws NoSuchMethodException {
		HttpResponse<byte[]> cancel = this.http.post(path("/routing/actions/7"))
			.key(this.key)
			.name(this.key)
			.header("X-Action", "cancel")
			.json("{}")
			.send();
		HttpResponse<byte[]> refund = this.http.post(path("/routing/actions/7"))
			.key(this.key)
			.name(this.key)
			.header("X-Action", "refund")
			.json("{}")
			.send();
		HttpResponse<byte[]> retry = this.http.post(path("/routing/actions/7"))
			.key(this.key)
			.name(this.key)
			.header("X-Action", "cancel")
			.json("{}")
			.send();

		assertThat(TestHttp.text(cancel)).isEqualTo("cancelled 7 run 1");
		assertThat(refund.statusCode()).isEqualTo(422);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.body()).isEqualTo(cancel.body());
		assertThat(this.executions.count(this.key)).isEqualTo(1);
		Method cancelling = RoutingController.class.getDeclaredMethod("cancel", String.class, String.class);
		Method replacing = RoutingController.class.getDeclaredMethod("replace", String.class, String.class);
		assertThat(this.matcher.sharedRouteConditions(cancelling)).contains("X-Action=cancel");
		// Another request method on the route: its scope is another already.
		assertThat(this.matcher.sharedRouteConditions(replacing)).isNull();
	}

	@Test
	void requestToAnIdempotentHandlerWithPathVariablesShouldBeProtected() {
		HttpResponse<byte[]> first = this.http.post(path("/routing/orders/42/pay")).key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post(path("/routing/orders/42/pay")).key(this.key).name(this.key).send();

		assertThat(TestHttp.text(first)).startsWith("order 42 run 1 wrappers ").contains("SwappableRequest");
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	// A wildcard names no variable: the path itself tells two requests to the handler
	// apart.
	@Test
	void keyReusedOnAnotherPathTheSameWildcardMatchesShouldBeRefused() {
		HttpResponse<byte[]> first = this.http.post(path("/routing/hooks/github")).key(this.key).name(this.key).send();
		HttpResponse<byte[]> other = this.http.post(path("/routing/hooks/stripe")).key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post(path("/routing/hooks/github")).key(this.key).name(this.key).send();

		assertThat(TestHttp.text(first)).isEqualTo("hook run 1");
		assertThat(other.statusCode()).isEqualTo(422);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	// A path segment's parameters reach the handler (@MatrixVariable) as its body does.
	@Test
	void keyReusedWithOtherMatrixVariablesShouldBeRefused() {
		HttpResponse<byte[]> first = this.http.post(path("/routing/lines/7;quantity=1"))
			.key(this.key)
			.name(this.key)
			.send();
		HttpResponse<byte[]> retry = this.http.post(path("/routing/lines/7;quantity=1"))
			.key(this.key)
			.name(this.key)
			.send();
		HttpResponse<byte[]> other = this.http.post(path("/routing/lines/7;quantity=100"))
			.key(this.key)
			.name(this.key)
			.send();

		assertThat(retry.body()).isEqualTo(first.body());
		if (handlersSeeMatrixVariables()) {
			assertThat(TestHttp.text(first)).isEqualTo("line 7 quantity 1 run 1");
			assertThat(other.statusCode()).isEqualTo(422);
		}
		// What the handler cannot see does not make two requests different.
		else {
			assertThat(TestHttp.text(first)).isEqualTo("line 7 quantity null run 1");
			assertThat(other.body()).isEqualTo(first.body());
		}
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	/**
	 * Whether the application's path matching hands handlers a path segment's parameters;
	 * the older string patterns remove them before matching.
	 */
	protected boolean handlersSeeMatrixVariables() {
		return true;
	}

	@Test
	void requestForwardedToAnIdempotentHandlerShouldBeProtected() {
		HttpResponse<byte[]> first = this.http.post(path("/routing/forward")).key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post(path("/routing/forward")).key(this.key).name(this.key).send();

		assertThat(TestHttp.text(first)).startsWith("order forwarded run 1");
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	// Prepared for the idempotent route, the request reaches an ordinary handler, whose
	// forward reaches an idempotent one: what an interceptor of the application's reads
	// there, before the starter's, is still part of the body fingerprinted.
	@Test
	void bodyAnInterceptorReadsOnAForwardFromAPreparedRequestShouldBeTheOneFingerprinted() {
		byte[] body = "{\"amount\":10}".getBytes(StandardCharsets.UTF_8);
		byte[] another = "{\"amount\":99}".getBytes(StandardCharsets.UTF_8);
		HttpResponse<byte[]> first = forwardSigned(body);
		HttpResponse<byte[]> retry = forwardSigned(body);
		HttpResponse<byte[]> reused = forwardSigned(another);

		assertThat(first.statusCode()).as(TestHttp.text(first)).isEqualTo(201);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(reused.statusCode()).as(TestHttp.text(reused)).isEqualTo(422);
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void forwardFromAPreparedRequestToAnIdempotentHandlerShouldBeProtected() {
		HttpResponse<byte[]> first = this.http.post(path("/routing/orders/8/pay"))
			.key(this.key)
			.name(this.key)
			.header("X-Forward-Hook", "true")
			.send();
		HttpResponse<byte[]> retry = this.http.post(path("/routing/orders/8/pay"))
			.key(this.key)
			.name(this.key)
			.header("X-Forward-Hook", "true")
			.send();

		assertThat(TestHttp.text(first)).isEqualTo("hook run 1");
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	private HttpResponse<byte[]> forwardSigned(byte[] body) {
		return this.http.post(path("/routing/orders/7/pay"))
			.key(this.key)
			.name(this.key)
			.header("X-Forward", "true")
			.header("X-Signature", SignedBodyCheck.signature(body))
			.body(body, "application/json")
			.send();
	}

	@Test
	void answerAnIdempotentHandlerForwardsShouldBeSentAsWithoutTheStarter() {
		HttpResponse<byte[]> first = this.http.post(path("/routing/idempotent-forward"))
			.key(this.key)
			.name(this.key)
			.send();
		HttpResponse<byte[]> retry = this.http.post(path("/routing/idempotent-forward"))
			.key(this.key)
			.name(this.key)
			.send();
		HttpResponse<byte[]> plain = this.http.post(path("/routing/plain-forward")).send();

		assertThat(first.headers().firstValue("Content-Type")).isEqualTo(plain.headers().firstValue("Content-Type"));
		assertThat(first.body()).isEqualTo(plain.body());
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.headers().firstValue("Content-Type")).isEqualTo(first.headers().firstValue("Content-Type"));
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void answerAnAsyncHandlerForwardsShouldBeSentAsWithoutTheStarter() {
		HttpResponse<byte[]> first = this.http.post(path("/routing/async-idempotent-forward"))
			.key(this.key)
			.name(this.key)
			.send();
		HttpResponse<byte[]> retry = this.http.post(path("/routing/async-idempotent-forward"))
			.key(this.key)
			.name(this.key)
			.send();
		HttpResponse<byte[]> plain = this.http.post(path("/routing/plain-forward")).send();

		assertThat(first.body()).isEqualTo(plain.body());
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	// Spring MVC does not see the end of a forward to a servlet of its own, as to a JSP;
	// Tomcat 11 finishes the response as the forward returns.
	@Test
	void answerAServletWritesOnAForwardShouldBeSentAndStored() {
		HttpResponse<byte[]> first = this.http.post(path("/routing/servlet-forward"))
			.key(this.key)
			.name(this.key)
			.send();
		HttpResponse<byte[]> retry = this.http.post(path("/routing/servlet-forward"))
			.key(this.key)
			.name(this.key)
			.send();

		assertThat(TestHttp.text(first)).startsWith("servlet answer ");
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	// A filter that reads the body on the forward does so before the forwarded handler
	// is chosen, though the request already names the handler that forwarded it: what it
	// read must still be part of the buffered body.
	@Test
	void bodyAFilterBeganToReadOnTheForwardShouldGoOnForTheHandler() {
		byte[] sent = ("first line\n" + "x".repeat(10_000)).getBytes(StandardCharsets.US_ASCII);
		HttpResponse<byte[]> first = this.http.post(path("/routing/forward-reading"))
			.key(this.key)
			.name(this.key)
			.header("X-First-Line", "on-forward")
			.body(sent, "text/plain")
			.send();
		HttpResponse<byte[]> retry = this.http.post(path("/routing/forward-reading"))
			.key(this.key)
			.name(this.key)
			.header("X-First-Line", "on-forward")
			.body(sent, "text/plain")
			.send();

		assertThat(first.statusCode()).as(TestHttp.text(first)).isEqualTo(200);
		assertThat(TestHttp.text(first)).isEqualTo("1:first line:" + "x".repeat(10_000));
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isOne();
	}

	// The async dispatch goes to the forwarded path, where the claim is finished.
	@Test
	void requestForwardedToAnIdempotentHandlerThatAnswersAsynchronouslyShouldBeProtected() {
		HttpResponse<byte[]> first = this.http.post(path("/routing/forward-async")).key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post(path("/routing/forward-async")).key(this.key).name(this.key).send();

		assertThat(TestHttp.text(first)).isEqualTo("async forwarded run 1");
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	// The DispatcherServlet removes the attributes an include added, the starter's among
	// them, before the include returns: the response must still be stored and sent.
	@Test
	void requestIncludingAnIdempotentHandlerShouldBeProtected() {
		HttpResponse<byte[]> first = this.http.post(path("/routing/include")).key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post(path("/routing/include")).key(this.key).name(this.key).send();

		assertThat(TestHttp.text(first)).startsWith("order included run 1");
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	// The container ignores an error sent from an include and renders no error page: the
	// response stands as the included handler wrote it, and is stored as it is, rather
	// than the key kept for a page that never comes.
	@Test
	void includedIdempotentHandlerThatSendsAnErrorShouldBeStoredAsItStands() {
		HttpResponse<byte[]> first = this.http.post(path("/routing/include-refused"))
			.key(this.key)
			.name(this.key)
			.send();
		HttpResponse<byte[]> retry = this.http.post(path("/routing/include-refused"))
			.key(this.key)
			.name(this.key)
			.send();

		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(TestHttp.text(first)).isEqualTo("refused run 1");
		assertThat(retry.statusCode()).isEqualTo(200);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	// The container ignores a redirect from an include, so what the included handler
	// writes after it stands, whether the response was committed before ("flushed") or
	// the handler then resets the buffer ("reset", through a Servlet 6.1 redirect that
	// hands the container the body first).
	@ParameterizedTest
	@ValueSource(strings = { "held", "flushed", "reset" })
	void redirectFromAnIncludedHandlerShouldBeIgnoredAsTheContainerIgnoresIt(String how) {
		assumeTrue(!how.equals("reset") || hasServlet61Redirects(), "Servlet 6.1 is not on the classpath");
		// Jetty ignores a buffer reset in an include, where Tomcat clears the buffer; the
		// capture follows Tomcat, since it cannot see which the container did.
		assumeTrue(!how.equals("reset") || !JETTY, "Jetty keeps the buffer an include resets");
		assumeTrue(!how.equals("flushed") || !UNDERTOW, "Undertow refuses a redirect once committed, include or not");
		String path = path("/routing/include-redirecting/" + how);
		HttpResponse<byte[]> first = this.http.post(path).key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.post(path).key(this.key).name(this.key).send();

		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(TestHttp.text(first)).isEqualTo(switch (how) {
			case "flushed" -> "including redirecting run 1 after";
			case "reset" -> "after";
			default -> "redirecting run 1 after";
		});
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	// Its work would end after the include returned, and Spring MVC would dispatch its
	// result to the including handler: refused, and never run.
	@Test
	void includedIdempotentHandlerThatAnswersAsynchronouslyShouldBeRefused() {
		HttpResponse<byte[]> including = this.http.post(path("/routing/include-async"))
			.key(this.key)
			.name(this.key)
			.send();
		HttpResponse<byte[]> direct = this.http.post(path("/routing/async/included"))
			.key(this.key)
			.name(this.key)
			.send();

		// An include cannot set the status: the including handler's stands.
		assertThat(including.statusCode()).isEqualTo(200);
		assertThat(TestHttp.text(including)).contains("idempotency-not-protected");
		assertThat(TestHttp.text(direct)).isEqualTo("async included run 1");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	// What it includes starts async work inside the include: Spring MVC dispatches the
	// result to the including request, and the claim is finished at the end of that.
	@Test
	void includedIdempotentHandlerThatIncludesAnAsyncHandlerShouldRunOnce() {
		HttpResponse<byte[]> first = this.http.post(path("/routing/include-nested"))
			.key(this.key)
			.name(this.key)
			.send();
		HttpResponse<byte[]> retry = this.http.post(path("/routing/include-nested"))
			.key(this.key)
			.name(this.key)
			.send();

		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	// Included into a request the filter prepared for the including handler, it would
	// share that request's wrappers and its one ending: refused, and never run.
	@Test
	void idempotentHandlerIncludedIntoAPreparedRequestShouldBeRefused() {
		HttpResponse<byte[]> including = this.http.post(path("/routing/orders/outer/pay"))
			.key(this.key)
			.name(this.key)
			.header("X-Include", "true")
			.send();
		HttpResponse<byte[]> direct = this.http.post(path("/routing/hooks/included"))
			.key(this.key)
			.name(this.key)
			.send();

		assertThat(TestHttp.text(including)).contains("idempotency-not-protected");
		assertThat(TestHttp.text(direct)).isEqualTo("hook run 1");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	// Spring MVC hands a HEAD request to the GET handler, so it must be prepared too.
	@Test
	void headRequestToAnIdempotentGetHandlerShouldBeProtected() {
		HttpResponse<byte[]> first = this.http.head(path("/routing/report")).key(this.key).name(this.key).send();
		HttpResponse<byte[]> retry = this.http.head(path("/routing/report")).key(this.key).name(this.key).send();

		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(retry.statusCode()).isEqualTo(200);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(this.executions.count(this.key)).isEqualTo(1);
	}

	@Test
	void idempotentHandlerMappedAfterStartupShouldRefuseRatherThanRunUnprotected() {
		Method method = ReflectionUtils.findMethod(RoutingController.class, "mappedLate", String.class);
		RequestMappingInfo info = RequestMappingInfo.paths("/routing/late")
			.methods(RequestMethod.POST)
			.options(this.mappings.getBuilderConfiguration())
			.build();
		this.mappings.registerMapping(info, this.controller, method);
		try {
			HttpResponse<byte[]> response = this.http.post(path("/routing/late")).key(this.key).name(this.key).send();

			assertThat(response.statusCode()).isEqualTo(503);
			assertThat(TestHttp.text(response)).contains("idempotency-not-protected");
			assertThat(this.executions.count(this.key)).isZero();
		}
		finally {
			this.mappings.unregisterMapping(info);
		}
	}

	@Test
	void matcherShouldFollowTheHandlersMethodsAndPathPatterns() {
		assertThat(mayReach("POST", "/routing/orders/7/pay")).isTrue();
		assertThat(mayReach("POST", "/edge/payments")).isTrue();
		assertThat(mayReach("PATCH", "/routing/orders/7/pay")).isFalse();
		assertThat(mayReach("POST", "/routing/orders/7")).isFalse();
		assertThat(mayReach("POST", "/routing/plain")).isFalse();
		assertThat(mayReach("POST", "/nowhere")).isFalse();
		assertThat(mayReach("HEAD", "/routing/report")).isTrue();
		assertThat(mayReach("PUT", "/routing/report")).isFalse();
		// Paths that only match once decoded, or without their path parameters.
		assertThat(mayReach("POST", "/routing/%6Frders/7/pay")).isTrue();
		assertThat(mayReach("POST", "/routing/orders;v=1/7/pay")).isTrue();
		assertThat(mayReach("POST", "/%72outing/plain")).isFalse();
		// A pattern's wildcard may match nothing at all, the slash before it included.
		assertThat(mayReach("POST", "/routing/hooks")).isTrue();
		assertThat(mayReach("POST", "/routing/hooks/github/push")).isTrue();
		assertThat(mayReach("POST", "/routing/hook")).isFalse();
	}

	@Test
	void requestIncludingAnIdempotentHandlerShouldMatchByTheIncludedPath() {
		// An include keeps the including request's URI and paths, and names the
		// included ones in attributes.
		MockHttpServletRequest included = request("POST", "/routing/orders/7/pay");
		MockHttpServletRequest request = request("POST", "/routing/plain");
		request.setAttribute(RequestDispatcher.INCLUDE_REQUEST_URI, included.getRequestURI());
		request.setAttribute(RequestDispatcher.INCLUDE_CONTEXT_PATH, included.getContextPath());
		request.setAttribute(RequestDispatcher.INCLUDE_SERVLET_PATH, included.getServletPath());
		if (included.getPathInfo() != null) {
			request.setAttribute(RequestDispatcher.INCLUDE_PATH_INFO, included.getPathInfo());
		}
		request.setAttribute(RequestDispatcher.INCLUDE_MAPPING, included.getHttpServletMapping());
		assertThat(this.matcher.mayReachIdempotentHandler(request)).isTrue();
	}

	/**
	 * The path of a request to the given path of the DispatcherServlet.
	 */
	protected String path(String path) {
		return path;
	}

	/**
	 * A request to the given path of the DispatcherServlet, as the container hands it to
	 * filters.
	 */
	protected MockHttpServletRequest request(String method, String path) {
		return new MockHttpServletRequest(method, path);
	}

	private boolean mayReach(String method, String path) {
		MockHttpServletRequest request = request(method, path);
		boolean reaches = this.matcher.mayReachIdempotentHandler(request);
		// Leaves nothing behind for the DispatcherServlet to trip over.
		assertThat(request.getAttributeNames().hasMoreElements()).isFalse();
		return reaches;
	}

}
