package io.github.idempotency.store.redis;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.event.command.CommandListener;
import io.lettuce.core.event.command.CommandStartedEvent;
import org.junit.jupiter.api.AfterEach;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * What the tests of the store's choice between native commands and scripts share: a store
 * on a server of the test's own, whose connection records the name of every command it
 * sends, in order.
 */
abstract class AbstractCommandChoiceTests {

	/**
	 * The commands sent so far.
	 */
	protected final List<String> sent = new CopyOnWriteArrayList<>();

	/**
	 * The connection of the last {@link #connect(int)}.
	 */
	protected LettuceConnectionFactory connectionFactory;

	@AfterEach
	void disconnect() {
		if (this.connectionFactory != null) {
			this.connectionFactory.destroy();
		}
	}

	/**
	 * A store on the server at that loopback port.
	 * @param port the server's port
	 * @return the store
	 */
	protected RedisIdempotencyStore connect(int port) {
		this.connectionFactory = new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", port));
		this.connectionFactory.afterPropertiesSet();
		this.connectionFactory.start();
		((AbstractRedisClient) this.connectionFactory.getRequiredNativeClient()).addListener(new CommandListener() {
			@Override
			public void commandStarted(CommandStartedEvent event) {
				AbstractCommandChoiceTests.this.sent.add(event.getCommand().getType().toString());
			}
		});
		return new RedisIdempotencyStore(this.connectionFactory, "command-choice-test");
	}

}
