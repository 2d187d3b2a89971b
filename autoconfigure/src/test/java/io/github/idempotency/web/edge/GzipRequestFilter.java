package io.github.idempotency.web.edge;

import java.io.IOException;
import java.util.zip.GZIPInputStream;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.mock.web.DelegatingServletInputStream;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Decompresses a body sent with its {@code X-Request-Encoding} as it is read, as decoding
 * wrappers do, in one of their {@link Streams ways}. {@link EdgeApplication} registers it
 * before the starter's filter and after.
 */
public class GzipRequestFilter extends OncePerRequestFilter {

	private final String encoding;

	private final Streams streams;

	GzipRequestFilter(String encoding, Streams streams) {
		this.encoding = encoding;
		this.streams = streams;
	}

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return !this.encoding.equals(request.getHeader("X-Request-Encoding"));
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		// Reads the gzip header, the body's first bytes, before the chain goes on.
		ServletInputStream early = (this.streams == Streams.ONE_MADE_AT_ONCE) ? decoding(request) : null;
		chain.doFilter(new HttpServletRequestWrapper(request) {

			private ServletInputStream stream = early;

			@Override
			public ServletInputStream getInputStream() throws IOException {
				if (this.stream == null || GzipRequestFilter.this.streams == Streams.EACH_CALL) {
					this.stream = decoding((HttpServletRequest) getRequest());
				}
				return this.stream;
			}

		}, response);
	}

	private static ServletInputStream decoding(HttpServletRequest request) throws IOException {
		return new DelegatingServletInputStream(new GZIPInputStream(request.getInputStream()));
	}

	/**
	 * How the wrapper makes its decoding stream.
	 */
	public enum Streams {

		/**
		 * A new one on each call.
		 */
		EACH_CALL,

		/**
		 * One, on the first call, handed out again on the next.
		 */
		ONE,

		/**
		 * One, made with the wrapper.
		 */
		ONE_MADE_AT_ONCE

	}

}
