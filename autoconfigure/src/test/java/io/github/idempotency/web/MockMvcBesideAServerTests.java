package io.github.idempotency.web;

import io.github.idempotency.web.edge.EdgeApplication;

import org.springframework.boot.test.context.SpringBootTest;

/**
 * {@code MockMvc} built on the context of an application whose server has started (a
 * {@code RANDOM_PORT} test with {@code @AutoConfigureMockMvc}) shares that server's
 * servlet context, and with it what the starter set up there to hear the end of the
 * container's requests. Its own requests are not the container's: they are answered as
 * without a server. The {@code jetty} run of this module's build runs these beside Jetty.
 */
@SpringBootTest(classes = EdgeApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "idempotency.key-prefix=mock-mvc-beside-server-test")
class MockMvcBesideAServerTests extends MockMvcErrorPageTests {

}
