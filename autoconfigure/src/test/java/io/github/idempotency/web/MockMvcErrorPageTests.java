package io.github.idempotency.web;

import java.util.UUID;

import io.github.idempotency.autoconfigure.IdempotencyWebMvcAutoConfiguration;
import io.github.idempotency.test.RedisTestServer;
import io.github.idempotency.web.app.Executions;
import io.github.idempotency.web.edge.EdgeApplication;
import jakarta.servlet.Filter;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.web.context.WebApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

/**
 * {@code MockMvc} renders no error page and calls no listener: a status sent with
 * {@code sendError} is released at once, as nothing would finish a claim kept open for an
 * error page, and a retry runs the handler again rather than find the key held.
 */
@SpringBootTest(classes = EdgeApplication.class, webEnvironment = SpringBootTest.WebEnvironment.MOCK,
		properties = "idempotency.key-prefix=mock-mvc-error-page-test")
class MockMvcErrorPageTests {

	@Autowired
	private WebApplicationContext context;

	@Autowired
	private Executions executions;

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
	}

	@Test
	void statusSentWithoutAContainerShouldReleaseTheKeyAtOnce() throws Exception {
		MockMvc mvc = mockMvc();
		String key = UUID.randomUUID().toString();

		for (int attempt = 0; attempt < 2; attempt++) {
			mvc.perform(post("/edge/refused-after-work").header("Idempotency-Key", key).header("X-Test-Name", key))
				.andExpect(status().isConflict())
				.andExpect(header().doesNotExist("Idempotent-Replayed"));
		}
		assertThat(this.executions.count(key)).isEqualTo(2);
	}

	@Test
	void answerShouldBeStoredAndReplayed() throws Exception {
		MockMvc mvc = mockMvc();
		String key = UUID.randomUUID().toString();

		mvc.perform(post("/edge/payments").header("Idempotency-Key", key).header("X-Test-Name", key).content("{}"))
			.andExpect(status().isCreated())
			.andExpect(header().doesNotExist("Idempotent-Replayed"));
		mvc.perform(post("/edge/payments").header("Idempotency-Key", key).header("X-Test-Name", key).content("{}"))
			.andExpect(status().isCreated())
			.andExpect(header().string("Idempotent-Replayed", "true"));
		assertThat(this.executions.count(key)).isEqualTo(1);
	}

	private MockMvc mockMvc() {
		Filter filter = this.context
			.getBean(IdempotencyWebMvcAutoConfiguration.FILTER_REGISTRATION_BEAN_NAME, FilterRegistrationBean.class)
			.getFilter();
		return MockMvcBuilders.webAppContextSetup(this.context).addFilters(filter).build();
	}

}
