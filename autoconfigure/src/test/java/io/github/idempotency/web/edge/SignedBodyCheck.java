package io.github.idempotency.web.edge;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;

import org.springframework.mock.web.DelegatingServletInputStream;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.servlet.HandlerInterceptor;

/**
 * A check of a body's signature as applications write one: a filter, inside the
 * starter's, wraps requests sent with {@code X-Signature} so that their body can be read
 * more than once, reading it only when first asked; an interceptor of the application's,
 * registered without an order for the paths under {@code /edge}, reads it before the
 * handler and refuses (401) a body whose SHA-256 is not the signature.
 */
public final class SignedBodyCheck {

	static final String HEADER = "X-Signature";

	private SignedBodyCheck() {
	}

	public static String signature(byte[] body) {
		try {
			return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

	static final class RereadableBodyFilter extends OncePerRequestFilter {

		@Override
		protected boolean shouldNotFilter(HttpServletRequest request) {
			return request.getHeader(HEADER) == null;
		}

		@Override
		protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
				throws ServletException, IOException {
			chain.doFilter(new RereadableBody(request), response);
		}

	}

	private static final class RereadableBody extends HttpServletRequestWrapper {

		private byte @Nullable [] body;

		RereadableBody(HttpServletRequest request) {
			super(request);
		}

		@Override
		public ServletInputStream getInputStream() throws IOException {
			if (this.body == null) {
				this.body = super.getInputStream().readAllBytes();
			}
			return new DelegatingServletInputStream(new ByteArrayInputStream(this.body));
		}

	}

	static final class SignatureInterceptor implements HandlerInterceptor {

		@Override
		public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler)
				throws IOException {
			String expected = request.getHeader(HEADER);
			if (expected == null || expected.equals(signature(request.getInputStream().readAllBytes()))) {
				return true;
			}
			response.sendError(HttpServletResponse.SC_UNAUTHORIZED, "Bad signature");
			return false;
		}

	}

}
