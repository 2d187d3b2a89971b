package io.github.idempotency.store.jdbc;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.annotation.Idempotent;
import io.github.idempotency.autoconfigure.IdempotencyAutoConfiguration;
import io.github.idempotency.test.BootLine;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DelegatingDataSource;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The JDBC store takes a connection of its own for each statement, also while the calling
 * thread's transaction holds one of the same pool: with as many such transactions as
 * connections, each waits for a second one that none gives back. A pool of one connection
 * shows it with a single call; the store on a pool of its own never waits on the
 * application's.
 */
class JdbcStorePoolTests {

	private static final String TABLE = "pool_test_record";

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(IdempotencyAutoConfiguration.class, AopAutoConfiguration.class,
				BootLine.jacksonAutoConfiguration()))
		.withPropertyValues("spring.liquibase.enabled=false", "idempotency.store=jdbc",
				"idempotency.jdbc.table-name=" + TABLE, "idempotency.jdbc.purge.enabled=false")
		.withUserConfiguration(Ledger.class);

	@Test
	void storeOnThePoolTheTransactionExhaustedShouldFailTheCallWithoutRunningIt() {
		this.runner.withPropertyValues("idempotency.jdbc.initialize-schema=always").run((context) -> {
			assertThat(context).hasNotFailed();
			Bookings bookings = context.getBean(Bookings.class);
			assertThatExceptionOfType(IdempotencyStoreException.class)
				.isThrownBy(() -> context.getBean(Desk.class).book("exhausted"));
			assertThat(bookings.runs()).isZero();
		});
	}

	@Test
	void storeOnAPoolOfItsOwnShouldRunTheCallOnceAndReplayIt() {
		this.runner.withUserConfiguration(OwnPool.class).run((context) -> {
			assertThat(context).hasNotFailed();
			Desk desk = context.getBean(Desk.class);
			assertThat(desk.book("own-pool")).isEqualTo("booked own-pool");
			assertThat(desk.book("own-pool")).isEqualTo("booked own-pool");
			assertThat(context.getBean(Bookings.class).runs()).isOne();
		});
	}

	// A pool as far as this test needs one: at most so many connections out at once, and
	// a wait of a quarter of a second for one (Hikari's shortest) before failing. Hikari
	// itself on the test class path would have Spring Boot configure a DataSource in
	// every
	// other test.
	static DataSource pool(int size) {
		DataSource database = JdbcStores.postgres();
		Semaphore connections = new Semaphore(size);
		return new DelegatingDataSource(database) {

			@Override
			public Connection getConnection() throws SQLException {
				try {
					if (!connections.tryAcquire(250, TimeUnit.MILLISECONDS)) {
						throw new SQLTransientConnectionException("No connection free after 250 ms");
					}
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					throw new SQLTransientConnectionException("Interrupted while waiting for a connection", ex);
				}
				Connection connection = database.getConnection();
				AtomicBoolean open = new AtomicBoolean(true);
				return (Connection) Proxy.newProxyInstance(JdbcStorePoolTests.class.getClassLoader(),
						new Class<?>[] { Connection.class }, (proxy, method, arguments) -> {
							if (method.getName().equals("close") && open.getAndSet(false)) {
								connections.release();
							}
							try {
								return method.invoke(connection, arguments);
							}
							catch (InvocationTargetException ex) {
								throw ex.getCause();
							}
						});
			}

		};
	}

	@Configuration(proxyBeanMethods = false)
	@EnableTransactionManagement
	static class Ledger {

		@Bean
		@Primary
		DataSource dataSource() {
			return pool(1);
		}

		@Bean
		DataSourceTransactionManager transactionManager(DataSource dataSource) {
			return new DataSourceTransactionManager(dataSource);
		}

		@Bean
		Bookings bookings() {
			return new Bookings();
		}

		@Bean
		Desk desk(Bookings bookings, DataSource dataSource) {
			return new Desk(bookings, new JdbcTemplate(dataSource));
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class OwnPool {

		@Bean(defaultCandidate = false)
		DataSource idempotencyDataSource() {
			return pool(2);
		}

		@Bean
		JdbcIdempotencyStore idempotencyStore(@Qualifier("idempotencyDataSource") DataSource dataSource) {
			JdbcIdempotencyStore store = new JdbcIdempotencyStore(dataSource, TABLE);
			new JdbcTemplate(dataSource).execute("DROP TABLE IF EXISTS " + TABLE);
			store.createTable();
			return store;
		}

	}

	public static class Bookings {

		private final AtomicInteger runs = new AtomicInteger();

		@Idempotent(key = "#p0")
		public String book(String reference) {
			this.runs.incrementAndGet();
			return "booked " + reference;
		}

		public int runs() {
			return this.runs.get();
		}

	}

	public static class Desk {

		private final Bookings bookings;

		private final JdbcTemplate jdbc;

		Desk(Bookings bookings, JdbcTemplate jdbc) {
			this.bookings = bookings;
			this.jdbc = jdbc;
		}

		@Transactional
		public String book(String reference) {
			this.jdbc.queryForObject("SELECT 1", Integer.class);
			return this.bookings.book(reference);
		}

	}

}
