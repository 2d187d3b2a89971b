package io.github.idempotency.web;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import org.springframework.mock.web.MockHttpServletRequest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * The request wrapper of {@link IdempotencyFilter} hands out the body as the container
 * does: the stream or the reader, not both, since the reader reads ahead of what it hands
 * out and the stream would miss what it read.
 */
class SwappableRequestTests {

	private final MockHttpServletRequest request = new MockHttpServletRequest("POST", "/orders");

	SwappableRequestTests() {
		this.request.setContent("first line\nsecond line".getBytes(StandardCharsets.US_ASCII));
	}

	@Test
	void streamAfterTheReaderShouldBeRefused() throws Exception {
		IdempotencyFilter.SwappableRequest swappable = new IdempotencyFilter.SwappableRequest(this.request, 1024);

		assertThat(swappable.getReader().readLine()).isEqualTo("first line");
		assertThatIllegalStateException().isThrownBy(swappable::getInputStream);
		assertThat(swappable.getReader().readLine()).isEqualTo("second line");
	}

	@Test
	void readerAfterTheStreamShouldBeRefused() throws Exception {
		IdempotencyFilter.SwappableRequest swappable = new IdempotencyFilter.SwappableRequest(this.request, 1024);

		assertThat(swappable.getInputStream().read()).isEqualTo('f');
		assertThatIllegalStateException().isThrownBy(swappable::getReader);
	}

}
