package io.github.idempotency.web.edge;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.web.app.Executions;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.MappingMatch;

import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.MatrixVariable;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseBody;

/**
 * Endpoints that tell which requests the starter prepares: each answers with its run and
 * the classes of the request wrappers it was handed, outermost first.
 */
@Controller
@RequestMapping("/routing")
public class RoutingController {

	private final Executions executions;

	public RoutingController(Executions executions) {
		this.executions = executions;
	}

	@PostMapping("/plain")
	@ResponseBody
	String plain(HttpServletRequest request) {
		return "wrappers " + wrappers(request);
	}

	@PostMapping("/orders/{id}/pay")
	@ResponseBody
	@Idempotent
	String pay(@RequestHeader("X-Test-Name") String name, @PathVariable String id, HttpServletRequest request) {
		return "order " + id + " run " + this.executions.record(name) + " wrappers " + wrappers(request);
	}

	@PostMapping("/lines/{id}")
	@ResponseBody
	@Idempotent
	String line(@RequestHeader("X-Test-Name") String name, @PathVariable String id,
			@MatrixVariable(pathVar = "id", required = false) Integer quantity) {
		return "line " + id + " quantity " + quantity + " run " + this.executions.record(name);
	}

	@PostMapping("/hooks/**")
	@ResponseBody
	@Idempotent
	String hook(@RequestHeader("X-Test-Name") String name) {
		return "hook run " + this.executions.record(name);
	}

	@PostMapping("/async/{id}")
	@ResponseBody
	@Idempotent
	Callable<String> asyncPay(@RequestHeader("X-Test-Name") String name, @PathVariable String id) {
		return () -> "async " + id + " run " + this.executions.record(name);
	}

	@PostMapping("/refused/{id}")
	@Idempotent
	void refused(@RequestHeader("X-Test-Name") String name, HttpServletResponse response) throws IOException {
		response.getWriter().write("refused run " + this.executions.record(name));
		response.sendError(404);
	}

	// Redirects, which the container ignores in an include, so that what is written
	// after stands: written through a writer, or reset first when told "reset" (after
	// Servlet 6.1's redirect that keeps the body, which an include ignores as well).
	@PostMapping("/redirecting/{how}")
	@Idempotent
	void redirecting(@RequestHeader("X-Test-Name") String name, @PathVariable String how, HttpServletResponse response)
			throws Exception {
		response.getWriter().write("redirecting run " + this.executions.record(name) + " ");
		if (how.equals("reset")) {
			response.getWriter().flush();
			HttpServletResponse.class.getMethod("sendRedirect", String.class, boolean.class)
				.invoke(response, "/routing/plain", false);
			response.resetBuffer();
		}
		else {
			response.sendRedirect("/routing/plain");
		}
		response.getWriter().write("after");
	}

	@PostMapping("/callable")
	@ResponseBody
	Callable<String> callable() {
		return () -> "callable";
	}

	// Idempotent and synchronous, but what it includes answers asynchronously.
	@PostMapping("/nested/{id}")
	@Idempotent
	void nested(@RequestHeader("X-Test-Name") String name, @PathVariable String id, HttpServletRequest request,
			HttpServletResponse response) throws ServletException, IOException {
		response.getWriter().write("nested " + id + " run " + this.executions.record(name) + " ");
		include(request, response, "/routing/callable");
	}

	@GetMapping("/report")
	@ResponseBody
	@Idempotent
	String report(@RequestHeader("X-Test-Name") String name) {
		return "report run " + this.executions.record(name);
	}

	@PostMapping("/forward")
	String forward(HttpServletRequest request) {
		return "forward:" + servletPath(request) + "/routing/orders/forwarded/pay";
	}

	// An idempotent handler whose answer another handler writes, as JSON without a
	// charset, on a forward: the container ends a forward by asking for the writer.
	@PostMapping("/idempotent-forward")
	@Idempotent
	String idempotentForward(@RequestHeader("X-Test-Name") String name, HttpServletRequest request) {
		this.executions.record(name);
		return "forward:" + servletPath(request) + "/routing/json";
	}

	// An idempotent handler whose answer a servlet of the application's writes, as a
	// JSP view's would be.
	@PostMapping("/servlet-forward")
	@Idempotent
	String servletForward(@RequestHeader("X-Test-Name") String name) {
		this.executions.record(name);
		return "forward:" + AnsweringServlet.PATH;
	}

	// The same, with the forward rendered in the async dispatch.
	@PostMapping("/async-idempotent-forward")
	@Idempotent
	Callable<String> asyncIdempotentForward(@RequestHeader("X-Test-Name") String name, HttpServletRequest request) {
		String path = servletPath(request);
		return () -> {
			this.executions.record(name);
			return "forward:" + path + "/routing/json";
		};
	}

	@PostMapping("/plain-forward")
	String plainForward(HttpServletRequest request) {
		return "forward:" + servletPath(request) + "/routing/json";
	}

	@PostMapping(path = "/json", produces = "application/json")
	@ResponseBody
	Map<String, String> json() {
		return Map.of("answer", "caf\u00e9");
	}

	@PostMapping("/forward-reading")
	String forwardReading(HttpServletRequest request) {
		return "forward:" + servletPath(request) + "/edge/echo-reader";
	}

	@PostMapping("/forward-async")
	String forwardAsync(HttpServletRequest request) {
		return "forward:" + servletPath(request) + "/routing/async/forwarded";
	}

	@PostMapping("/include")
	void include(HttpServletRequest request, HttpServletResponse response) throws ServletException, IOException {
		include(request, response, "/routing/orders/included/pay");
	}

	@PostMapping("/include-async")
	void includeAsync(HttpServletRequest request, HttpServletResponse response) throws ServletException, IOException {
		include(request, response, "/routing/async/included");
	}

	@PostMapping("/include-refused")
	void includeRefused(HttpServletRequest request, HttpServletResponse response) throws ServletException, IOException {
		include(request, response, "/routing/refused/included");
	}

	// Writes and commits first when told "flushed", so that the redirect it includes
	// finds the response committed. (Otherwise it writes nothing: Spring MVC clears the
	// buffer before it resolves the exception a replay is sent through, which in an
	// include takes what the including handler wrote with it.)
	@PostMapping("/include-redirecting/{how}")
	void includeRedirecting(@PathVariable String how, HttpServletRequest request, HttpServletResponse response)
			throws ServletException, IOException {
		if (how.equals("flushed")) {
			// Through the stream, which the capture of what it includes writes to too.
			response.getOutputStream().write("including ".getBytes(StandardCharsets.UTF_8));
			response.flushBuffer();
		}
		include(request, response, "/routing/redirecting/" + how);
	}

	@PostMapping("/include-nested")
	void includeNested(HttpServletRequest request, HttpServletResponse response) throws ServletException, IOException {
		include(request, response, "/routing/nested/included");
	}

	// Two idempotent actions on one route, which a header picks between.
	@PostMapping(path = "/actions/{id}", headers = "X-Action=cancel")
	@ResponseBody
	@Idempotent
	String cancel(@RequestHeader("X-Test-Name") String name, @PathVariable String id) {
		return "cancelled " + id + " run " + this.executions.record(name);
	}

	@PostMapping(path = "/actions/{id}", headers = "X-Action=refund")
	@ResponseBody
	@Idempotent
	String refund(@RequestHeader("X-Test-Name") String name, @PathVariable String id) {
		return "refunded " + id + " run " + this.executions.record(name);
	}

	@PutMapping("/actions/{id}")
	@ResponseBody
	@Idempotent
	String replace(@RequestHeader("X-Test-Name") String name, @PathVariable String id) {
		return "replaced " + id + " run " + this.executions.record(name);
	}

	// The idempotent route's method and pattern, picked over it by its header: the filter
	// prepares the request, for a handler that is not idempotent.
	@PostMapping(path = "/orders/{id}/pay", headers = "X-Include")
	void includeFromAnIdempotentRoute(HttpServletRequest request, HttpServletResponse response)
			throws ServletException, IOException {
		include(request, response, "/routing/hooks/included");
	}

	// The same, for a handler that forwards to an idempotent one, whose body an
	// interceptor of the application's checks on the forward.
	@PostMapping(path = "/orders/{id}/pay", headers = "X-Forward")
	String forwardFromAnIdempotentRoute(HttpServletRequest request) {
		return "forward:" + servletPath(request) + "/edge/payments";
	}

	// The same, forwarding to an idempotent handler that no filter wraps the response of.
	@PostMapping(path = "/orders/{id}/pay", headers = "X-Forward-Hook")
	String forwardToAHookFromAnIdempotentRoute(HttpServletRequest request) {
		return "forward:" + servletPath(request) + "/routing/hooks/forwarded";
	}

	/**
	 * Idempotent, but mapped by no annotation: tests map it while the application runs.
	 */
	@ResponseBody
	@Idempotent
	public String mappedLate(@RequestHeader("X-Test-Name") String name) {
		return "run " + this.executions.record(name);
	}

	private static void include(HttpServletRequest request, HttpServletResponse response, String path)
			throws ServletException, IOException {
		request.getRequestDispatcher(servletPath(request) + path).include(request, response);
	}

	// A forward's or an include's path is relative to the application, not to the
	// DispatcherServlet.
	private static String servletPath(HttpServletRequest request) {
		return (request.getHttpServletMapping().getMappingMatch() == MappingMatch.PATH) ? request.getServletPath() : "";
	}

	private static List<String> wrappers(ServletRequest request) {
		List<String> names = new ArrayList<>();
		while (request instanceof ServletRequestWrapper wrapper) {
			names.add(wrapper.getClass().getSimpleName());
			request = wrapper.getRequest();
		}
		return names;
	}

}
