package io.github.idempotency.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jspecify.annotations.Nullable;

/**
 * A TCP proxy on the loopback interface in front of a server, which can cut the client's
 * connection once the server has answered, before the answer reaches the client: the
 * command ran, and the client cannot know it.
 */
public final class ReplyDroppingProxy implements AutoCloseable {

	private final ServerSocket server;

	private final String targetHost;

	private final int targetPort;

	private final AtomicBoolean dropNextReply = new AtomicBoolean();

	private volatile byte @Nullable [] dropReplyTo;

	private final ExecutorService threads = Executors.newCachedThreadPool((task) -> {
		Thread thread = new Thread(task, "reply-dropping-proxy");
		thread.setDaemon(true);
		return thread;
	});

	public ReplyDroppingProxy(String targetHost, int targetPort) throws IOException {
		this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
		this.targetHost = targetHost;
		this.targetPort = targetPort;
		this.threads.execute(this::accept);
	}

	public int port() {
		return this.server.getLocalPort();
	}

	/**
	 * Cuts the connection that next receives an answer from the server, instead of
	 * passing the answer on.
	 */
	public void dropNextReply() {
		this.dropNextReply.set(true);
	}

	/**
	 * Cuts the connection that next receives an answer after the client sent a request
	 * holding the given word, so that other requests (a connection's validation, say) are
	 * answered.
	 * @param word a command's name, as the client sends it
	 */
	public void dropReplyTo(String word) {
		this.dropReplyTo = word.getBytes(StandardCharsets.US_ASCII);
	}

	/**
	 * Whether the answer to drop is still to come.
	 * @return {@code true} until a connection was cut
	 */
	public boolean isDropPending() {
		return this.dropNextReply.get() || this.dropReplyTo != null;
	}

	private void accept() {
		while (!this.server.isClosed()) {
			try {
				Socket client = this.server.accept();
				Socket target = new Socket(this.targetHost, this.targetPort);
				this.threads.execute(() -> pump(client, target, false));
				this.threads.execute(() -> pump(target, client, true));
			}
			catch (IOException ex) {
				// Closed.
			}
		}
	}

	private void pump(Socket from, Socket to, boolean answers) {
		byte[] buffer = new byte[8192];
		try (from; to) {
			InputStream in = from.getInputStream();
			OutputStream out = to.getOutputStream();
			int read;
			while ((read = in.read(buffer)) >= 0) {
				if (answers && this.dropNextReply.compareAndSet(true, false)) {
					return;
				}
				// Armed before the request goes on, so that its answer cannot pass first.
				byte[] word = this.dropReplyTo;
				if (!answers && word != null && contains(buffer, read, word)) {
					this.dropNextReply.set(true);
					this.dropReplyTo = null;
				}
				out.write(buffer, 0, read);
				out.flush();
			}
		}
		catch (IOException ex) {
			// The other side closed.
		}
	}

	private static boolean contains(byte[] buffer, int length, byte[] word) {
		for (int start = 0; start + word.length <= length; start++) {
			if (Arrays.equals(buffer, start, start + word.length, word, 0, word.length)) {
				return true;
			}
		}
		return false;
	}

	@Override
	public void close() throws IOException {
		this.server.close();
		this.threads.shutdownNow();
	}

}
