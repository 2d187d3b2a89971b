package io.github.idempotency.sample;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import redis.embedded.RedisServer;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.boot.autoconfigure.data.redis.RedisConnectionDetails;

/**
 * Starts an embedded Redis server (6.2, shipped in the embedded-redis library) when
 * nothing answers at the configured standalone address on this machine, so that the demo
 * runs where only a JDK is installed. With a real Redis reachable, it does nothing.
 */
class EmbeddedRedisFallback implements InitializingBean, DisposableBean {

	private static final Log logger = LogFactory.getLog(EmbeddedRedisFallback.class);

	private final RedisConnectionDetails connectionDetails;

	private RedisServer server;

	EmbeddedRedisFallback(RedisConnectionDetails connectionDetails) {
		this.connectionDetails = connectionDetails;
	}

	@Override
	public void afterPropertiesSet() throws IOException {
		RedisConnectionDetails.Standalone standalone = this.connectionDetails.getStandalone();
		if (standalone == null || answers(standalone.getHost(), standalone.getPort())
				|| !isLocal(standalone.getHost())) {
			return;
		}
		this.server = RedisServer.newRedisServer()
			.port(standalone.getPort())
			.bind("127.0.0.1")
			.setting("save \"\"")
			.setting("appendonly no")
			.build();
		this.server.start();
		logger.warn("\n\n    No Redis answered at " + standalone.getHost() + ":" + standalone.getPort()
				+ ", so this demo started an EMBEDDED Redis there.\n    Its data lives only as long as this process."
				+ " Set sample.embedded-redis.enabled=false to turn this off.\n");
	}

	@Override
	public void destroy() throws IOException {
		if (this.server != null) {
			this.server.stop();
		}
	}

	private static boolean answers(String host, int port) {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(host, port), 500);
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	private static boolean isLocal(String host) {
		try {
			return InetAddress.getByName(host).isLoopbackAddress();
		}
		catch (IOException ex) {
			return false;
		}
	}

}
