package io.github.idempotency.sample;

import io.github.idempotency.test.RedisTestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sample says which Redis it uses, without the credentials a URL may carry.
 */
@ExtendWith(OutputCaptureExtension.class)
class EmbeddedRedisFallbackLogTests {

	@Test
	void configuredUrlShouldBeLoggedWithoutCredentials(CapturedOutput output) throws Exception {
		MockEnvironment environment = new MockEnvironment().withProperty("spring.data.redis.url",
				"redis://payments:s3cret@127.0.0.1:6390");
		new EmbeddedRedisFallback(environment).afterPropertiesSet();
		assertThat(output).contains("Using the Redis configured in spring.data.redis: redis://127.0.0.1:6390")
			.doesNotContain("s3cret");
	}

	@Test
	void redisAnsweringAtHostAndPortShouldBeLogged(CapturedOutput output) throws Exception {
		MockEnvironment environment = new MockEnvironment()
			.withProperty("spring.data.redis.host", RedisTestServer.host())
			.withProperty("spring.data.redis.port", String.valueOf(RedisTestServer.port()));
		new EmbeddedRedisFallback(environment).afterPropertiesSet();
		assertThat(output)
			.contains("Using the Redis configured at " + RedisTestServer.host() + ":" + RedisTestServer.port());
	}

}
