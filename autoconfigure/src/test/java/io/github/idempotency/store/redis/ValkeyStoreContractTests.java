package io.github.idempotency.store.redis;

import java.io.IOException;

import io.github.idempotency.contract.AbstractIdempotencyStoreTests;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.test.RedisProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The store contract on Valkey 8.1, where both the claim ({@code SET ... NX GET}) and the
 * completion ({@code SET ... IFEQ}) are native commands. Skipped where
 * {@value RedisProcess#VALKEY_VARIABLE} names no server.
 */
class ValkeyStoreContractTests extends AbstractIdempotencyStoreTests {

	private static RedisProcess valkey;

	private static LettuceConnectionFactory connectionFactory;

	private static RedisIdempotencyStore store;

	@BeforeAll
	static void start() throws Exception {
		assumeTrue(RedisProcess.valkeyServer() != null, RedisProcess.VALKEY_VARIABLE + " is not set");
		valkey = RedisProcess.launchValkey();
		connectionFactory = new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", valkey.port()));
		connectionFactory.afterPropertiesSet();
		connectionFactory.start();
		store = new RedisIdempotencyStore(connectionFactory, "valkey-contract");
	}

	@AfterAll
	static void stop() {
		if (connectionFactory != null) {
			connectionFactory.destroy();
		}
		if (valkey != null) {
			valkey.close();
		}
	}

	@Override
	protected IdempotencyStore store() {
		return store;
	}

	// The native completion's reply is cut, and the client fails it as disconnected
	// rather than timed out: the store has the script decide within the same attempt,
	// and the script finds the record the command wrote.
	@Test
	void completionWhoseReplyWasLostShouldBeFoundStoredByTheNextAttempt() throws IOException {
		RedisIdempotencyStoreTests.assertLostReplyFoundStored("127.0.0.1", valkey.port(), "valkey-contract", true,
				"IFEQ", store);
	}

	// A completion the native command did not store goes to the script, which finds it
	// stored by the first send.
	@Test
	void claimAndCompletionSentAgainAfterAReconnectShouldCountAsDone() throws IOException {
		RedisIdempotencyStoreTests.assertSentAgainCountsAsDone("127.0.0.1", valkey.port(), "valkey-contract", true,
				store);
	}

}
