package io.github.idempotency.web.edge;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * A servlet beside the {@code DispatcherServlet}, as a JSP is: it numbers its answers, so
 * that a replay tells itself from a second answer.
 */
public class AnsweringServlet extends HttpServlet {

	/**
	 * Where the servlet is mapped.
	 */
	public static final String PATH = "/servlet/answer";

	private final AtomicInteger answers = new AtomicInteger();

	@Override
	protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
		response.setContentType("text/plain");
		response.getWriter().write("servlet answer " + this.answers.incrementAndGet());
	}

}
