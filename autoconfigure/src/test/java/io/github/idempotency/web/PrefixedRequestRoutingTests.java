package io.github.idempotency.web;

import io.github.idempotency.web.edge.EdgeApplication;
import jakarta.servlet.http.MappingMatch;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.mock.web.MockHttpServletMapping;
import org.springframework.mock.web.MockHttpServletRequest;

/**
 * {@link RequestRoutingTests} in an application under a context path, with its
 * DispatcherServlet mapped to a path of its own.
 */
@SpringBootTest(classes = EdgeApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=routing-test", "server.servlet.context-path=/shop",
				"spring.mvc.servlet.path=/api" })
class PrefixedRequestRoutingTests extends RequestRoutingTests {

	@Override
	protected String path(String path) {
		return "/shop/api" + path;
	}

	@Override
	protected MockHttpServletRequest request(String method, String path) {
		MockHttpServletRequest request = new MockHttpServletRequest(method, "/shop/api" + path);
		request.setContextPath("/shop");
		request.setServletPath("/api");
		request.setPathInfo(path);
		request.setHttpServletMapping(
				new MockHttpServletMapping(path.substring(1), "/api/*", "dispatcherServlet", MappingMatch.PATH));
		return request;
	}

}
