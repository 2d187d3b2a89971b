package io.github.idempotency.web;

import io.github.idempotency.web.edge.EdgeApplication;

import org.springframework.boot.test.context.SpringBootTest;

/**
 * {@link RequestRoutingTests} in an application that matches paths with the older string
 * patterns ({@code AntPathMatcher}) instead of parsed ones.
 */
@SpringBootTest(classes = EdgeApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=routing-test",
				"spring.mvc.pathmatch.matching-strategy=ant_path_matcher" })
class AntPathRequestRoutingTests extends RequestRoutingTests {

	@Override
	protected boolean handlersSeeMatrixVariables() {
		return false;
	}

}
