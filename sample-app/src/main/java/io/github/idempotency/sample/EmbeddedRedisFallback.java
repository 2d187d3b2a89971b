package io.github.idempotency.sample;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import redis.embedded.RedisServer;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.core.env.Environment;

/**
 * Starts an embedded Redis server (6.2, shipped in the embedded-redis library) when
 * nothing answers at the configured standalone address on this machine, so that the demo
 * runs where only a JDK is installed. With a real Redis reachable, or with a URL,
 * Sentinel or Cluster configured, it does nothing. It reads the
 * {@code spring.data.redis.*} properties itself because Boot's connection details moved
 * package in Boot 4, and this sample runs on both lines.
 */
class EmbeddedRedisFallback implements InitializingBean, DisposableBean {

	private static final Log logger = LogFactory.getLog(EmbeddedRedisFallback.class);

	private final Environment environment;

	private RedisServer server;

	EmbeddedRedisFallback(Environment environment) {
		this.environment = environment;
	}

	@Override
	public void afterPropertiesSet() throws IOException {
		String host = this.environment.getProperty("spring.data.redis.host", "localhost");
		int port = this.environment.getProperty("spring.data.redis.port", Integer.class, 6379);
		if (!standalone()) {
			logger.info("Using the Redis configured in spring.data.redis: " + configured());
			return;
		}
		if (answers(host, port) || !isLocal(host)) {
			logger.info("Using the Redis configured at " + host + ":" + port);
			return;
		}
		this.server = RedisServer.newRedisServer()
			.port(port)
			.bind("127.0.0.1")
			.setting("save \"\"")
			.setting("appendonly no")
			.build();
		this.server.start();
		logger.warn("\n\n    No Redis answered at " + host + ":" + port
				+ ", so this demo started an EMBEDDED Redis there.\n    Its data lives only as long as this process."
				+ " Set sample.embedded-redis.enabled=false to turn this off.\n");
	}

	@Override
	public void destroy() throws IOException {
		if (this.server != null) {
			this.server.stop();
		}
	}

	private boolean standalone() {
		return !this.environment.containsProperty("spring.data.redis.url")
				&& !this.environment.containsProperty("spring.data.redis.sentinel.master")
				&& !this.environment.containsProperty("spring.data.redis.cluster.nodes");
	}

	// Where, without credentials: a URL may carry a password.
	private String configured() {
		String url = this.environment.getProperty("spring.data.redis.url");
		if (url != null) {
			URI uri = URI.create(url);
			return uri.getScheme() + "://" + uri.getHost() + ":" + uri.getPort();
		}
		String master = this.environment.getProperty("spring.data.redis.sentinel.master");
		return (master != null) ? "Sentinel master " + master
				: "Cluster " + this.environment.getProperty("spring.data.redis.cluster.nodes");
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
