package io.github.idempotency.store.redis;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.test.RedisTestServer;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The stored record, checked on generated responses through a real Redis: any status,
 * header name, header value and body either comes back exactly as it was stored, or is
 * refused before anything is written.
 */
class StoredRecordProperties {

	private static LettuceConnectionFactory connectionFactory;

	private static RedisIdempotencyStore store;

	@BeforeContainer
	static void connect() {
		connectionFactory = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration(RedisTestServer.host(), RedisTestServer.port()));
		connectionFactory.afterPropertiesSet();
		connectionFactory.start();
		store = new RedisIdempotencyStore(connectionFactory, "record-properties");
	}

	@AfterContainer
	static void disconnect() {
		connectionFactory.destroy();
	}

	@Property(tries = 300)
	void responseShouldRoundTripOrBeRefusedWhenWritten(@ForAll("statuses") int status,
			@ForAll("headers") Map<String, List<String>> headers, @ForAll byte[] body) {
		StoredResponse response;
		Throwable refused = catchThrowable(() -> new StoredResponse(status, headers, body));
		if (refused != null) {
			assertThat(refused).isInstanceOf(IllegalArgumentException.class);
			assertThat(status < 100 || status > 599 || !headers.keySet().stream().allMatch(this::isToken)
					|| headers.values().stream().flatMap(List::stream).anyMatch(this::hasControlCharacter))
				.isTrue();
			return;
		}
		response = new StoredResponse(status, headers, body);
		String key = UUID.randomUUID().toString();
		ClaimResult.Claimed claimed = (ClaimResult.Claimed) store.claim(key, "fp", Duration.ofSeconds(10));
		assertThat(store.complete(key, claimed.token(), response, Duration.ofSeconds(10))).isTrue();

		ClaimResult replay = store.claim(key, "fp", Duration.ofSeconds(10));

		assertThat(replay).isInstanceOf(ClaimResult.Completed.class);
		StoredResponse read = ((ClaimResult.Completed) replay).response();
		assertThat(read.status()).isEqualTo(status);
		assertThat(read.headers()).isEqualTo(response.headers());
		assertThat(read.body()).isEqualTo(body);
		store.delete(key);
	}

	@Provide
	Arbitrary<Integer> statuses() {
		return Arbitraries.frequencyOf(Tuple.of(8, Arbitraries.integers().between(100, 599)),
				Tuple.of(1, Arbitraries.integers()), Tuple.of(1, Arbitraries.of(0, 99, 600, 1000, -1)));
	}

	@Provide
	Arbitrary<Map<String, List<String>>> headers() {
		Arbitrary<String> names = Arbitraries.frequencyOf(
				Tuple.of(8, Arbitraries.strings().withChars("abcXYZ-_09!#'*.^`|~").ofMinLength(1).ofMaxLength(12)),
				Tuple.of(1, Arbitraries.strings().ofMaxLength(6)),
				Tuple.of(1, Arbitraries.of("", "Bad Name", "Colon:", "Line\r\nBreak")));
		Arbitrary<String> values = Arbitraries.frequencyOf(
				Tuple.of(6, Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(20)),
				Tuple.of(2, Arbitraries.strings().ofMaxLength(10)),
				Tuple.of(1, Arbitraries.of("a\r\nSet-Cookie: x=1", "tab\there", "\u20ac uro", ": colon", "")));
		return Arbitraries.maps(names, values.list().ofMinSize(1).ofMaxSize(3)).ofMaxSize(4).map(LinkedHashMap::new);
	}

	private boolean isToken(String name) {
		return !name.isEmpty() && name.chars()
			.allMatch((c) -> (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
					|| "!#$%&'*+-.^_`|~".indexOf(c) >= 0);
	}

	private boolean hasControlCharacter(String value) {
		return value.chars().anyMatch((c) -> (c < 0x20 && c != '\t') || c == 0x7F)
				|| value.codePoints().anyMatch((c) -> c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE);
	}

}
