package io.github.idempotency.web;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import org.jspecify.annotations.Nullable;

/**
 * The body of a request that {@link IdempotencyFilter} prepared, as handed to the
 * wrappers made after it that read the body before the handler is chosen (one that keeps
 * a copy to log, decrypt or check it, say). It records what they read, so that the body
 * can be fingerprinted as it reached the filter, and once the body is buffered goes on
 * from there: a wrapper that stopped halfway reads the rest from the buffer.
 */
final class RecordingBodyStream extends ServletInputStream {

	private final ServletInputStream source;

	private final long limit;

	// Null once the body is buffered, or once more than the limit was read: such a body
	// is refused before it is fingerprinted.
	private @Nullable ByteArrayOutputStream recorded = new ByteArrayOutputStream();

	private @Nullable ByteArrayInputStream buffered;

	RecordingBodyStream(ServletInputStream source, long limit) {
		this.source = source;
		this.limit = limit;
	}

	/**
	 * The stream the rest of the body is read from.
	 */
	InputStream source() {
		return this.source;
	}

	/**
	 * What was read so far, or {@code null} when that is more than the limit.
	 */
	byte @Nullable [] recorded() {
		return (this.recorded != null) ? this.recorded.toByteArray() : null;
	}

	/**
	 * Goes on reading from the buffered body, where the reads so far stopped.
	 */
	void goOnFrom(byte[] body) {
		int position = (this.recorded != null) ? this.recorded.size() : 0;
		this.buffered = new ByteArrayInputStream(body, position, body.length - position);
		this.recorded = null;
	}

	@Override
	public int read() throws IOException {
		if (this.buffered != null) {
			return this.buffered.read();
		}
		int next = this.source.read();
		if (next != -1 && recording(1)) {
			this.recorded.write(next);
		}
		return next;
	}

	@Override
	public int read(byte[] buffer, int offset, int length) throws IOException {
		if (this.buffered != null) {
			return this.buffered.read(buffer, offset, length);
		}
		int count = this.source.read(buffer, offset, length);
		if (count > 0 && recording(count)) {
			this.recorded.write(buffer, offset, count);
		}
		return count;
	}

	// Whether the next count bytes read are to be recorded: not past the limit.
	private boolean recording(int count) {
		if (this.recorded != null && this.recorded.size() + count > this.limit) {
			this.recorded = null;
		}
		return this.recorded != null;
	}

	@Override
	public boolean isFinished() {
		return (this.buffered != null) ? this.buffered.available() == 0 : this.source.isFinished();
	}

	@Override
	public boolean isReady() {
		return this.buffered != null || this.source.isReady();
	}

	@Override
	public void setReadListener(ReadListener listener) {
		if (this.buffered != null) {
			throw new UnsupportedOperationException("The body has already been read");
		}
		this.source.setReadListener(listener);
	}

}
