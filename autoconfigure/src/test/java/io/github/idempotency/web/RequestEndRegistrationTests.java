package io.github.idempotency.web;

import java.util.ArrayList;
import java.util.EventListener;
import java.util.List;
import java.util.stream.Stream;

import io.github.idempotency.web.edge.EdgeApplication;
import org.apache.catalina.Container;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.valves.ErrorReportValve;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.web.server.WebServerFactory;
import org.springframework.context.ApplicationContext;
import org.springframework.mock.web.MockServletContext;
import org.springframework.test.util.ReflectionTestUtils;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How the container comes to tell the starter that a request has ended: through a valve
 * on an embedded Tomcat, where a request listener would make every request's attributes
 * notify it, and through the listener anywhere else. The settings are EdgeCaseTests', so
 * that both run in one application context.
 */
@SpringBootTest(classes = EdgeApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "idempotency.key-prefix=edge-test", "spring.mvc.async.request-timeout=400ms",
				"idempotency.lock-timeout=600ms", "idempotency.lock-renewal.interval=590ms",
				"idempotency.lock-renewal.max-duration=2500ms", "spring.task.execution.pool.core-size=1" })
class RequestEndRegistrationTests extends AbstractWebTests {

	@Autowired
	private ApplicationContext context;

	@Test
	void embeddedTomcatShouldHearTheEndOfRequestsThroughAHostValveAndRegisterNoListener() {
		// The web server's and the context's types are named differently by Spring Boot
		// 3.5 and 4; Tomcat's own are the same.
		Object webServer = ReflectionTestUtils.invokeMethod(this.context, "getWebServer");
		Tomcat tomcat = ReflectionTestUtils.invokeMethod(webServer, "getTomcat");

		// After Tomcat's error report valve, which sends its report complete: the claim
		// is
		// released before the client has the report.
		List<Class<?>> hostValves = Stream.of(tomcat.getHost().getPipeline().getValves())
			.<Class<?>>map(Object::getClass)
			.toList();
		assertThat(hostValves).containsSubsequence(ErrorReportValve.class, TomcatRequestEndValve.class);
		assertThat(hostValves).containsOnlyOnce(TomcatRequestEndValve.class);
		for (Container child : tomcat.getHost().findChildren()) {
			assertThat(((StandardContext) child).getApplicationEventListeners()).isEmpty();
		}
	}

	@Test
	void anyOtherContainerShouldGetTheListener() {
		RequestEndRegistration registration = new RequestEndRegistration();
		ListenerRecordingServletContext servletContext = new ListenerRecordingServletContext();

		registration.customize(new WebServerFactory() {
		});
		registration.onStartup(servletContext);

		assertThat(servletContext.listeners).singleElement().isInstanceOf(IdempotencyRequestListener.class);
	}

	@Test
	void applicationDeployedAsAWarShouldGetTheListener() {
		RequestEndRegistration registration = new RequestEndRegistration();
		ListenerRecordingServletContext servletContext = new ListenerRecordingServletContext();

		// No embedded server to customize: the container starts the application.
		registration.onStartup(servletContext);

		assertThat(servletContext.listeners).singleElement().isInstanceOf(IdempotencyRequestListener.class);
	}

	private static final class ListenerRecordingServletContext extends MockServletContext {

		private final List<EventListener> listeners = new ArrayList<>();

		@Override
		public <T extends EventListener> void addListener(T listener) {
			this.listeners.add(listener);
		}

	}

}
