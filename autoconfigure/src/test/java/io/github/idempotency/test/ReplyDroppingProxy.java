package io.github.idempotency.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

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
	 * Whether the answer to drop is still to come.
	 * @return {@code true} until a connection was cut
	 */
	public boolean isDropPending() {
		return this.dropNextReply.get();
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
				out.write(buffer, 0, read);
				out.flush();
			}
		}
		catch (IOException ex) {
			// The other side closed.
		}
	}

	@Override
	public void close() throws IOException {
		this.server.close();
		this.threads.shutdownNow();
	}

}
