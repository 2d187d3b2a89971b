package io.github.idempotency.web;

import io.github.idempotency.web.edge.EdgeApplication;
import jakarta.servlet.ServletContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.test.util.ReflectionTestUtils;
import org.springframework.web.context.WebApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web tests' run on Undertow (the {@code undertow} execution of this module's build,
 * on Spring Boot 3.5 only, whose last server it is) is on Undertow, with neither Tomcat
 * nor Jetty to fall back to. It is the one run where the starter hears the end of a
 * request through its request listener, as on any container it has no hook for.
 */
@EnabledIfSystemProperty(named = "idempotency.test.server", matches = "undertow")
@SpringBootTest(classes = EdgeApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=edge-test", "spring.mvc.async.request-timeout=400ms",
				"idempotency.lock-timeout=600ms", "idempotency.lock-renewal.interval=590ms",
				"idempotency.lock-renewal.max-duration=2500ms", "spring.task.execution.pool.core-size=1" })
class UndertowServerTests extends AbstractWebTests {

	@Autowired
	private ApplicationContext context;

	@Test
	void serverShouldBeUndertowWithoutTomcatOrJetty() {
		Object webServer = ReflectionTestUtils.invokeMethod(this.context, "getWebServer");
		assertThat(webServer.getClass().getSimpleName()).startsWith("Undertow");
		ClassLoader classLoader = getClass().getClassLoader();
		assertThat(classLoader.getResource("org/apache/catalina/Valve.class")).isNull();
		assertThat(classLoader.getResource("org/eclipse/jetty/ee10/servlet/ServletContextRequest.class")).isNull();
	}

	@Test
	void endOfRequestShouldBeHeardFromARequestListener() {
		ServletContext servletContext = ((WebApplicationContext) this.context).getServletContext();
		assertThat(servletContext.getAttribute(JettyRequestEnd.ATTRIBUTE)).isNull();
	}

}
