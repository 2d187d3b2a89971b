package io.github.idempotency.sample;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.context.bean.override.mockito.MockitoBean;
import org.springframework.test.web.servlet.MockMvc;

import static org.mockito.ArgumentMatchers.any;
import static org.mockito.BDDMockito.given;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

/**
 * The controller tested as docs/testing.md shows: a {@code @WebMvcTest} slice with
 * {@code @AutoConfigureIdempotency}, the in-memory store, and a mock provider that counts
 * charges. Each Spring Boot line's subclass carries that line's {@code @WebMvcTest}.
 */
abstract class AbstractPaymentControllerSliceTests {

	private static final String PAYMENT = """
			{"amount": 1250, "currency": "EUR", "reference": "order-42"}""";

	@Autowired
	private MockMvc mvc;

	@MockitoBean
	private PaymentProvider provider;

	@Test
	void retryShouldBeReplayedWithoutChargingAgain() throws Exception {
		given(this.provider.charge(any())).willReturn("captured");
		this.mvc
			.perform(post("/payments").header("Idempotency-Key", "slice-1")
				.contentType(MediaType.APPLICATION_JSON)
				.content(PAYMENT))
			.andExpect(status().isCreated());
		this.mvc
			.perform(post("/payments").header("Idempotency-Key", "slice-1")
				.contentType(MediaType.APPLICATION_JSON)
				.content(PAYMENT))
			.andExpect(status().isCreated())
			.andExpect(header().string("Idempotent-Replayed", "true"));
		verify(this.provider, times(1)).charge(any());
	}

	@Test
	void requestWithoutKeyShouldBeRefused() throws Exception {
		this.mvc.perform(post("/payments").contentType(MediaType.APPLICATION_JSON).content(PAYMENT))
			.andExpect(status().isBadRequest())
			.andExpect(jsonPath("$.type").value("urn:problem-type:idempotency:idempotency-key-missing"));
		verify(this.provider, times(0)).charge(any());
	}

}
