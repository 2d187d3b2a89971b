package io.github.idempotency.web;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UnsupportedEncodingException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.Charset;
import java.util.Arrays;
import java.util.Locale;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * The response of an idempotent handler, as the client receives it, with a copy of its
 * body for the record.
 *
 * <p>
 * A body that fits in {@code idempotency.max-response-size} is held back until
 * {@link #release()}, so that its record is stored before the client can see the response
 * and retry. A body that grows past that size, or that a streaming handler flushes, goes
 * to the client as it is written instead; the copy is kept while it fits, and dropped
 * once it does not, so a streamed response never costs more memory than that size. Other
 * flushes send nothing early: Spring MVC flushes every {@code ResponseEntity}, and
 * buffering filters flush what they copy back.
 *
 * <p>
 * Also notes whether the response went to the container's error page, whose body is
 * written in a later dispatch, into a capture of its own. Confined to the request; not
 * thread-safe.
 */
final class CapturedResponse extends HttpServletResponseWrapper {

	private final int maxCopy;

	private final boolean streaming;

	private static final byte[] NOTHING_YET = new byte[0];

	private static final @Nullable MethodHandle REDIRECT_WITH_STATUS = findRedirectWithStatus();

	// Grown to the first write's size, then doubled: a body written in one go, as message
	// converters write it, is copied once, and a replay that writes nothing here costs
	// nothing.
	private byte @Nullable [] copy = NOTHING_YET;

	private int size;

	// Whether bytes go to the client as they are written.
	private boolean passing;

	private boolean errorSent;

	// The container took a redirect, and ignores whatever is written after it.
	private boolean redirected;

	// The locale the response was given, whose language the container sends.
	private @Nullable Locale locale;

	// The charset the writer encodes with, fixed when it was made. As in the container, a
	// charset set after that changes neither the bytes nor the Content-Type naming them.
	private @Nullable String writerEncoding;

	private boolean flushingWriter;

	private @Nullable ServletOutputStream stream;

	private @Nullable PrintWriter writer;

	/**
	 * @param response the response below
	 * @param maxCopy the largest body copied for the record, and held back until then
	 * @param streaming whether the handler streams its body (a
	 * {@code StreamingResponseBody}), so that a flush sends what was written
	 */
	CapturedResponse(HttpServletResponse response, long maxCopy, boolean streaming) {
		super(response);
		this.maxCopy = (int) Math.min(maxCopy, Integer.MAX_VALUE - 8);
		this.streaming = streaming;
	}

	boolean isErrorSent() {
		return this.errorSent;
	}

	/**
	 * Whether bytes go to the client as they are written, rather than held back.
	 */
	boolean isPassing() {
		return this.passing;
	}

	/**
	 * The {@code Content-Language} the container sends for a locale the response was
	 * given ({@code setLocale}, as Spring MVC calls it to render a view), or
	 * {@code null}. The container keeps it apart from the headers, which do not list it.
	 */
	@Nullable String contentLanguage() {
		return (this.locale != null) ? this.locale.toLanguageTag() : null;
	}

	/**
	 * The body written so far, if it was copied whole.
	 */
	byte @Nullable [] copyOfBody() {
		// Characters still in the writer's encoder are part of the body.
		flushWriterHere();
		if (this.copy == null) {
			return null;
		}
		// Handed over as it is when it holds exactly the body: it is never written again,
		// since a later write would first grow it into a new array.
		return (this.copy.length == this.size) ? this.copy : Arrays.copyOf(this.copy, this.size);
	}

	/**
	 * Sends whatever is written from now on straight to the client, without copying it:
	 * for answers that are not stored, such as replays.
	 */
	void passThrough() throws IOException {
		sendHeld();
		this.copy = null;
	}

	/**
	 * Sends the body held back, once the record is stored or released.
	 */
	void release() throws IOException {
		if (this.writer != null) {
			this.writer.flush();
		}
		if (!this.passing && this.copy != null && this.size > 0 && !getResponse().isCommitted()) {
			getResponse().setContentLength(this.size);
		}
		sendHeld();
	}

	/**
	 * Drops the body held back, of an answer that failed while it was written: sent with
	 * its length, what was written before the failure would look whole to the client. The
	 * container answers the failure instead, as it would without the starter. What was
	 * sent already stays sent.
	 */
	void discardHeld() {
		if (!this.passing) {
			this.passing = true;
			this.copy = null;
			this.size = 0;
		}
	}

	private void sendHeld() throws IOException {
		sendHeld(Integer.MAX_VALUE);
	}

	private void sendHeld(int piece) throws IOException {
		if (this.passing) {
			return;
		}
		this.passing = true;
		if (this.copy != null) {
			for (int sent = 0; sent < this.size; sent += piece) {
				getResponse().getOutputStream().write(this.copy, sent, Math.min(piece, this.size - sent));
			}
		}
	}

	private void write(byte[] bytes, int offset, int length) throws IOException {
		if (this.redirected) {
			return;
		}
		if (!this.passing) {
			if (this.copy != null && length <= this.maxCopy - this.size) {
				keep(bytes, offset, length);
				return;
			}
			sendHeld();
		}
		getResponse().getOutputStream().write(bytes, offset, length);
		if (this.copy != null) {
			if (length <= this.maxCopy - this.size) {
				keep(bytes, offset, length);
			}
			else {
				this.copy = null;
			}
		}
	}

	private void keep(byte[] bytes, int offset, int length) {
		byte[] kept = this.copy;
		if (this.size + length > kept.length) {
			kept = Arrays.copyOf(kept, (int) Math.min(this.maxCopy, Math.max(2L * kept.length, this.size + length)));
			this.copy = kept;
		}
		System.arraycopy(bytes, offset, kept, this.size, length);
		this.size += length;
	}

	@Override
	public ServletOutputStream getOutputStream() throws IOException {
		if (this.stream == null) {
			this.stream = new CapturingStream(getResponse().getOutputStream());
		}
		return this.stream;
	}

	@Override
	public PrintWriter getWriter() throws IOException {
		if (this.writer == null) {
			// As the container's: a forward's end asks for the writer, then for the
			// stream if the writer is refused.
			Assert.state(this.stream == null, "getOutputStream() has already been called for this response");
			String encoding = getCharacterEncoding();
			// As the container does when its own writer is asked for: the type then names
			// the charset the body is written in.
			super.setCharacterEncoding(encoding);
			try {
				this.writer = new PrintWriter(new OutputStreamWriter(getOutputStream(), encoding));
				this.writerEncoding = encoding;
			}
			catch (UnsupportedEncodingException ex) {
				throw new IOException("Unsupported response encoding " + encoding, ex);
			}
		}
		return this.writer;
	}

	@Override
	public void flushBuffer() throws IOException {
		if (this.writer != null) {
			this.writer.flush();
		}
		if (this.streaming) {
			sendHeld();
		}
		if (this.passing) {
			super.flushBuffer();
		}
	}

	@Override
	public void resetBuffer() {
		if (!this.passing || !getResponse().isCommitted()) {
			flushWriterHere();
		}
		super.resetBuffer();
		// Even once passing: the container throws when it has sent anything, so when it
		// does not, it dropped all it was given. Tomcat clears its buffer in an include
		// too; Jetty ignores the reset there, which cannot be told from here.
		this.size = 0;
	}

	@Override
	public void reset() {
		discardWriterBuffer();
		super.reset();
		// As the container, which has not refused the reset, forgets whether its stream
		// or its writer was used.
		this.stream = null;
		this.writer = null;
		this.writerEncoding = null;
		this.locale = null;
		if (!this.passing) {
			this.size = 0;
		}
	}

	// The container drops what it buffered before it redirects, and ignores what is
	// written after, so the body held back here goes, and nothing more is kept: the
	// client receives the redirect without a body.
	@Override
	public void sendRedirect(String location) throws IOException {
		boolean committed = getResponse().isCommitted();
		super.sendRedirect(location);
		noteRedirect(committed, true);
	}

	// Servlet 6.1 adds these three overloads, which the wrapper would pass on untouched.
	public void sendRedirect(String location, int sc) throws IOException {
		sendRedirect(location, sc, true);
	}

	public void sendRedirect(String location, boolean clearBuffer) throws IOException {
		sendRedirect(location, SC_FOUND, clearBuffer);
	}

	public void sendRedirect(String location, int sc, boolean clearBuffer) throws IOException {
		Assert.state(REDIRECT_WITH_STATUS != null, "Servlet 6.1 redirect overload called on an earlier Servlet API");
		if (!clearBuffer) {
			// The container sends what was written along with the redirect, so it must
			// have it; the copy keeps it for the record.
			flushWriterHere();
			// In pieces the container keeps in its buffer, as a writer's would be: Jetty
			// sends a single write over a quarter of its buffer at once, committing the
			// response, which the redirect would then fail on.
			sendHeld(Math.max(1, getResponse().getBufferSize() / 4));
		}
		boolean committed = getResponse().isCommitted();
		try {
			REDIRECT_WITH_STATUS.invokeExact((HttpServletResponse) getResponse(), location, sc, clearBuffer);
		}
		catch (IOException | RuntimeException | Error ex) {
			throw ex;
		}
		catch (Throwable ex) {
			throw new IllegalStateException(ex);
		}
		noteRedirect(committed, clearBuffer);
	}

	private void noteRedirect(boolean committedBefore, boolean bodyCleared) {
		// The redirect commits the response, unless the container ignored it, as in an
		// include (where the response may have been committed before).
		if (!committedBefore && getResponse().isCommitted()) {
			if (bodyCleared) {
				discardWriterBuffer();
				if (!this.passing) {
					this.size = 0;
				}
			}
			this.redirected = true;
		}
	}

	// Servlet 6.1's redirect with a status and a choice to keep the body: looked up, as
	// this class is built against Servlet 6.0 too, where nothing calls the overloads.
	private static @Nullable MethodHandle findRedirectWithStatus() {
		try {
			return MethodHandles.publicLookup()
				.findVirtual(HttpServletResponse.class, "sendRedirect",
						MethodType.methodType(void.class, String.class, int.class, boolean.class));
		}
		catch (NoSuchMethodException | IllegalAccessException ex) {
			return null;
		}
	}

	// What the writer still holds was written before the reset, so it goes too: flushed
	// into the held body, which the reset then clears.
	private void discardWriterBuffer() {
		if (!this.passing) {
			flushWriterHere();
		}
	}

	// Moves what the writer holds into this response, without the stream's flush sending
	// anything on, as a streaming handler's own flush would.
	private void flushWriterHere() {
		if (this.writer == null) {
			return;
		}
		this.flushingWriter = true;
		try {
			this.writer.flush();
		}
		finally {
			this.flushingWriter = false;
		}
	}

	@Override
	public void setCharacterEncoding(String charset) {
		if (this.writerEncoding == null) {
			super.setCharacterEncoding(charset);
		}
	}

	// Servlet 6.1 adds this overload, which the wrapper would pass on untouched.
	public void setCharacterEncoding(@Nullable Charset charset) {
		setCharacterEncoding((charset != null) ? charset.name() : null);
	}

	@Override
	public void setContentType(String type) {
		super.setContentType(type);
		keepWriterEncoding();
	}

	@Override
	public void setLocale(Locale locale) {
		super.setLocale(locale);
		keepWriterEncoding();
		// Ignored, as by the container, once the response is committed.
		if (!isCommitted()) {
			this.locale = locale;
		}
	}

	// The container itself has no writer in use, since the writer is this response's.
	private void keepWriterEncoding() {
		if (this.writerEncoding != null) {
			super.setCharacterEncoding(this.writerEncoding);
		}
	}

	@Override
	public void sendError(int sc) throws IOException {
		super.sendError(sc);
		noteErrorSent(sc);
	}

	@Override
	public void sendError(int sc, String msg) throws IOException {
		super.sendError(sc, msg);
		noteErrorSent(sc);
	}

	// Unless the container ignored it, as it does in an include: the response then stands
	// as written, and no error page follows.
	private void noteErrorSent(int sc) {
		if (getStatus() == sc) {
			this.errorSent = true;
		}
	}

	private final class CapturingStream extends ServletOutputStream {

		private final ServletOutputStream target;

		private final byte[] single = new byte[1];

		CapturingStream(ServletOutputStream target) {
			this.target = target;
		}

		@Override
		public void write(int b) throws IOException {
			this.single[0] = (byte) b;
			CapturedResponse.this.write(this.single, 0, 1);
		}

		@Override
		public void write(byte[] bytes, int offset, int length) throws IOException {
			CapturedResponse.this.write(bytes, offset, length);
		}

		@Override
		public void flush() throws IOException {
			if (CapturedResponse.this.flushingWriter) {
				return;
			}
			if (CapturedResponse.this.streaming) {
				sendHeld();
			}
			if (CapturedResponse.this.passing) {
				this.target.flush();
			}
		}

		@Override
		public boolean isReady() {
			return this.target.isReady();
		}

		@Override
		public void setWriteListener(WriteListener listener) {
			this.target.setWriteListener(listener);
		}

	}

}
