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
 * The web tests' runs on other servers than Tomcat (the {@code jetty} and
 * {@code undertow} executions of this module's build) are on that server, with no Tomcat
 * to fall back to: without this, a classpath that kept Tomcat would quietly run them on
 * Tomcat again. And the starter hears the end of a request there as it means to: on Jetty
 * from the response, on Undertow, as on any container it has no hook for, through its
 * request listener. {@link RequestEndRegistrationTests} checks Tomcat's valve.
 */
@EnabledIfSystemProperty(named = "idempotency.test.server", matches = "jetty|undertow")
@SpringBootTest(classes = EdgeApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=edge-test", "spring.mvc.async.request-timeout=400ms",
				"idempotency.lock-timeout=600ms", "idempotency.lock-renewal.interval=590ms",
				"idempotency.lock-renewal.max-duration=2500ms", "spring.task.execution.pool.core-size=1" })
class OtherServerTests extends AbstractWebTests {

	@Autowired
	private ApplicationContext context;

	@Test
	void serverShouldBeTheOneNamedWithoutTomcat() {
		// Spring Boot 3.5 and 4 name the web server's type differently.
		Object webServer = ReflectionTestUtils.invokeMethod(this.context, "getWebServer");
		assertThat(webServer.getClass().getSimpleName()).startsWith(JETTY ? "Jetty" : "Undertow");
		assertThat(getClass().getClassLoader().getResource("org/apache/catalina/Valve.class")).isNull();
	}

	// Jetty's request listeners hear of each dispatch's end, before the error page's.
	@Test
	void endOfRequestShouldBeHeardFromJettysResponseAndFromTheListenerElsewhere() {
		ServletContext servletContext = ((WebApplicationContext) this.context).getServletContext();
		if (JETTY) {
			assertThat(servletContext.getAttribute(JettyRequestEnd.ATTRIBUTE)).isInstanceOf(JettyRequestEnd.class);
		}
		else {
			assertThat(servletContext.getAttribute(JettyRequestEnd.ATTRIBUTE)).isNull();
		}
	}

}
