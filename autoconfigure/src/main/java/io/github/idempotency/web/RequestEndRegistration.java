package io.github.idempotency.web;

import java.lang.reflect.Method;

import jakarta.servlet.ServletContext;
import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleEvent;
import org.apache.catalina.LifecycleListener;
import org.apache.catalina.Pipeline;
import org.apache.catalina.Valve;

import org.springframework.boot.web.server.WebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.ServletContextInitializer;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;

/**
 * Makes the servlet container tell {@link IdempotencyRequestListener} when each request
 * ends: on an embedded Tomcat through a valve, on Jetty 12 through the response of each
 * request that waits for its error page, on any other container (or a Tomcat that runs
 * the application as a WAR) by registering the listener.
 *
 * <p>
 * Spring Boot customizes its embedded server's factory, and so this registration's choice
 * of a valve, before it starts the server and with it the servlet context that the
 * listener would otherwise be added to.
 *
 * @since 0.1.0
 */
public final class RequestEndRegistration
		implements WebServerFactoryCustomizer<WebServerFactory>, ServletContextInitializer {

	private static final boolean TOMCAT_PRESENT = ClassUtils.isPresent("org.apache.catalina.Valve",
			RequestEndRegistration.class.getClassLoader());

	private static final boolean JETTY_PRESENT = ClassUtils.isPresent("org.eclipse.jetty.server.HttpStream",
			RequestEndRegistration.class.getClassLoader());

	private volatile boolean valveAdded;

	@Override
	public void customize(WebServerFactory factory) {
		if (TOMCAT_PRESENT && Tomcat.addValve(factory)) {
			this.valveAdded = true;
		}
	}

	@Override
	public void onStartup(ServletContext servletContext) {
		if (this.valveAdded) {
			return;
		}
		JettyRequestEnd jetty = JETTY_PRESENT ? JettyRequestEnd.forContext(servletContext) : null;
		if (jetty != null) {
			servletContext.setAttribute(JettyRequestEnd.ATTRIBUTE, jetty);
		}
		else {
			servletContext.addListener(new IdempotencyRequestListener());
		}
	}

	// Apart, so that nothing of Tomcat's is loaded unless it is there.
	private static final class Tomcat {

		// Spring Boot 3.5 and 4 name the factory's interface in different packages, so
		// the method is found on the factory itself.
		static boolean addValve(WebServerFactory factory) {
			Method addListeners = ReflectionUtils.findMethod(factory.getClass(), "addContextLifecycleListeners",
					LifecycleListener[].class);
			if (addListeners == null) {
				return false;
			}
			ReflectionUtils.invokeMethod(addListeners, factory,
					(Object) new LifecycleListener[] { Tomcat::addValveToHost });
			return true;
		}

		// On the host, after the valve that renders Tomcat's own error report, which it
		// sends complete: so a claim is released before the client has that report, as a
		// request listener would have released it. The host adds that valve as it starts,
		// before it starts the application's context.
		private static void addValveToHost(LifecycleEvent event) {
			if (Lifecycle.BEFORE_START_EVENT.equals(event.getType())
					&& event.getLifecycle() instanceof Context context) {
				Pipeline pipeline = context.getParent().getPipeline();
				for (Valve valve : pipeline.getValves()) {
					if (valve instanceof TomcatRequestEndValve) {
						return;
					}
				}
				pipeline.addValve(new TomcatRequestEndValve());
			}
		}

	}

}
