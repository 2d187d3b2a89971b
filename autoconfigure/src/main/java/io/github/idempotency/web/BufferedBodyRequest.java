package io.github.idempotency.web;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UnsupportedEncodingException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import org.jspecify.annotations.Nullable;

/**
 * A request whose body was read in full before its handler ran, so that it could be
 * fingerprinted; the handler reads the same bytes.
 */
final class BufferedBodyRequest extends HttpServletRequestWrapper {

	private final byte[] body;

	private final ByteArrayInputStream input;

	// Made once, as the container's: a reader reads ahead of what it hands out.
	private @Nullable BufferedReader reader;

	BufferedBodyRequest(HttpServletRequest request, byte[] body) {
		super(request);
		this.body = body;
		this.input = new ByteArrayInputStream(body);
	}

	byte[] getBody() {
		return this.body;
	}

	@Override
	public int getContentLength() {
		return this.body.length;
	}

	@Override
	public long getContentLengthLong() {
		return this.body.length;
	}

	@Override
	public ServletInputStream getInputStream() {
		return new ServletInputStream() {

			@Override
			public int read() {
				return BufferedBodyRequest.this.input.read();
			}

			@Override
			public int read(byte[] buffer, int offset, int length) {
				return BufferedBodyRequest.this.input.read(buffer, offset, length);
			}

			@Override
			public boolean isFinished() {
				return BufferedBodyRequest.this.input.available() == 0;
			}

			@Override
			public boolean isReady() {
				return true;
			}

			@Override
			public void setReadListener(ReadListener listener) {
				throw new UnsupportedOperationException("The body has already been read");
			}

		};
	}

	@Override
	public BufferedReader getReader() throws UnsupportedEncodingException {
		if (this.reader == null) {
			this.reader = reader(getInputStream(), getCharacterEncoding());
		}
		return this.reader;
	}

	// A reader of the body in the request's encoding, or in ISO-8859-1, the Servlet
	// specification's default, when it names none.
	static BufferedReader reader(InputStream input, @Nullable String encoding) throws UnsupportedEncodingException {
		Charset charset;
		try {
			charset = (encoding != null) ? Charset.forName(encoding) : StandardCharsets.ISO_8859_1;
		}
		catch (IllegalArgumentException ex) {
			throw new UnsupportedEncodingException(encoding);
		}
		return new BufferedReader(new InputStreamReader(input, charset));
	}

}
