package io.github.idempotency.method;

import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.interceptor.Hashing;
import io.github.idempotency.test.RedisTestServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.data.annotation.Id;
import org.springframework.data.keyvalue.repository.KeyValueRepository;
import org.springframework.data.map.repository.config.EnableMapRepositories;
import org.springframework.data.repository.CrudRepository;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Beans whose class says nothing of what they are: Spring Data repositories, whose
 * proxies all serve their methods through one class of Spring Data's, and beans made from
 * a lambda, whose class is named anew in each JVM. Each is scoped by its interface.
 */
@SpringBootTest(classes = RepositoryMethodTests.RepositoryApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE,
		properties = { "idempotency.key-prefix=repository-test", "spring.data.redis.repositories.enabled=false" })
class RepositoryMethodTests {

	private static final AtomicInteger records = new AtomicInteger();

	private static final AtomicInteger refunds = new AtomicInteger();

	@Autowired
	PaymentEntries payments;

	@Autowired
	RefundEntries refundEntries;

	@Autowired
	Receipts receipts;

	@Autowired
	Refunder refunder;

	@Autowired
	IdempotencyStore store;

	String key;

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", RedisTestServer::url);
	}

	@BeforeEach
	void newKey() {
		this.key = UUID.randomUUID().toString();
	}

	// Both repositories inherit the method; each records its own entry.
	@Test
	void repositoriesSharingAnIdempotentMethodShouldKeepTheirRecordsApart() {
		String payment = this.payments.record(this.key);
		String refund = this.refundEntries.record(this.key);
		assertThat(refund).isNotEqualTo(payment);
		assertThat(this.payments.record(this.key)).isEqualTo(payment);
		assertThat(this.refundEntries.record(this.key)).isEqualTo(refund);
		assertThat(this.store
			.find(Hashing.recordKey(PaymentEntries.class.getName() + "#record(java.lang.String)", this.key)))
			.isPresent();
	}

	// A method Spring Data's own class implements, redeclared with the annotation: the
	// repository's interface declares it, whichever type the caller holds.
	@Test
	void redeclaredMethodOfSpringDatasClassShouldBeIdempotent() {
		Entry entry = new Entry();
		entry.id = this.key;
		this.receipts.save(entry);
		String scope = Receipts.class.getName() + "#save(" + Entry.class.getName() + ")";
		assertThat(this.store.find(Hashing.recordKey(scope, this.key))).isPresent();
		Entry other = new Entry();
		other.id = UUID.randomUUID().toString();
		CrudRepository<Entry, String> crud = this.receipts;
		crud.save(other);
		assertThat(this.store.find(Hashing.recordKey(scope, other.id))).isPresent();
	}

	// Scoped by a name every instance of the application shares, so that a duplicate
	// sent to another finds the record.
	@Test
	void beanMadeFromALambdaShouldBeScopedByItsInterface() {
		String refund = this.refunder.refund(this.key);
		assertThat(this.refunder.refund(this.key)).isEqualTo(refund);
		assertThat(this.store.find(Hashing.recordKey(Refunder.class.getName() + "#refund(java.lang.String)", this.key)))
			.isPresent();
	}

	/**
	 * What both repositories can do.
	 */
	interface Recording {

		@Idempotent(key = "#reference")
		default String record(String reference) {
			return reference + " recorded " + records.incrementAndGet();
		}

	}

	interface PaymentEntries extends KeyValueRepository<Entry, String>, Recording {

	}

	interface RefundEntries extends KeyValueRepository<Entry, String>, Recording {

	}

	interface Receipts extends KeyValueRepository<Entry, String> {

		@Idempotent(key = "#p0.id")
		@Override
		<S extends Entry> S save(S entry);

	}

	interface Refunder {

		@Idempotent(key = "#reference")
		String refund(String reference);

	}

	static class Entry {

		@Id
		String id;

		public String getId() {
			return this.id;
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@EnableMapRepositories(considerNestedRepositories = true)
	static class RepositoryApplication {

		@Bean
		Refunder refunder() {
			return (reference) -> reference + " refunded " + refunds.incrementAndGet();
		}

	}

}
