package io.github.idempotency.autoconfigure;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

import javax.sql.DataSource;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.interceptor.IdempotentMethodInvoker;
import io.github.idempotency.store.jdbc.JdbcIdempotencyStore;
import io.github.idempotency.store.jdbc.JdbcRecordPurger;
import io.github.idempotency.store.memory.InMemoryIdempotencyStore;
import io.github.idempotency.store.redis.RedisIdempotencyStore;
import io.github.idempotency.test.BootLine;
import io.github.idempotency.test.MariaDbTestServer;
import io.github.idempotency.test.PostgresTestServer;
import io.github.idempotency.test.RedisTestServer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.core.io.ByteArrayResource;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SimpleDriverDataSource;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Which store an application gets when it has a database, and how the JDBC store is set
 * up.
 */
@ExtendWith(OutputCaptureExtension.class)
class JdbcStoreAutoConfigurationTests {

	private static final String TABLE = "autoconfigured_record";

	private final ApplicationContextRunner runner = runnerOn(postgres());

	private static DataSource postgres() {
		SimpleDriverDataSource dataSource = new SimpleDriverDataSource();
		dataSource.setDriverClass(org.postgresql.Driver.class);
		dataSource.setUrl(PostgresTestServer.url());
		return dataSource;
	}

	@BeforeEach
	void dropTable() {
		new JdbcTemplate(postgres()).execute("DROP TABLE IF EXISTS " + TABLE);
	}

	@Test
	void dataSourceWithoutRedisShouldGetJdbcStoreThatCreatesItsTableWhenAsked() {
		this.runner.withPropertyValues("idempotency.jdbc.initialize-schema=always").run((context) -> {
			assertThat(context).hasSingleBean(IdempotencyStore.class);
			JdbcIdempotencyStore store = context.getBean(JdbcIdempotencyStore.class);
			assertThat(store.tableName()).isEqualTo(TABLE);
			assertThat(store.hasTable()).isTrue();
			assertThat(context.getBean(JdbcRecordPurger.class).isRunning()).isTrue();
		});
	}

	@Test
	void missingTableShouldFailStartupWithTheSqlThatCreatesIt() {
		this.runner.run((context) -> assertThat(context).getFailure()
			.hasMessageContaining("idempotency.jdbc.initialize-schema=always")
			.hasMessageContaining("schema-postgresql.sql")
			.hasMessageContaining("CREATE TABLE IF NOT EXISTS " + TABLE));
	}

	@Test
	void existingTableShouldBeUsedAsItIs() {
		new JdbcIdempotencyStore(postgres(), TABLE).createTable();
		this.runner.run((context) -> assertThat(context).hasNotFailed().hasSingleBean(JdbcIdempotencyStore.class));
	}

	// A table of the application's own migration, without the primary key: on MariaDB a
	// second claim of a key would insert a row of its own, and both calls would run.
	@ParameterizedTest
	@ValueSource(strings = { "postgresql", "mariadb", "mariadb-schema-term" })
	void tableWithoutAUniqueRecordKeyShouldFailStartup(String database) {
		withTableChangedBy((schema) -> schema.replace("NOT NULL PRIMARY KEY", "NOT NULL"), database, (table) -> {
			table.runner()
				.run((context) -> assertThat(context).getFailure()
					.hasMessageContaining("no unique index on record_key alone"));
			table.jdbc()
				.execute("CREATE UNIQUE INDEX " + TABLE + "_key_and_status ON " + TABLE + " (record_key, status)");
			table.runner()
				.run((context) -> assertThat(context).getFailure()
					.hasMessageContaining("no unique index on record_key alone"));
			table.jdbc().execute("CREATE UNIQUE INDEX " + TABLE + "_key ON " + TABLE + " (record_key)");
			table.runner().run((context) -> assertThat(context).hasNotFailed());
			table.runner()
				.withPropertyValues("idempotency.jdbc.table-name=" + schemaOf(table.jdbc()) + "." + TABLE)
				.run((context) -> assertThat(context).hasNotFailed());
			table.recreate(UnaryOperator.identity());
			table.runner().run((context) -> assertThat(context).hasNotFailed());
		});
	}

	// TIMESTAMP is read in each session's time zone (PostgreSQL's driver sets the JVM's):
	// an instance in New York would take a lease one in UTC holds for five hours more as
	// run out, and run its call again.
	@ParameterizedTest
	@ValueSource(strings = { "postgresql", "mariadb" })
	void tableKeepingTimesInASessionsTimeZoneShouldFailStartup(String database) {
		withTableChangedBy(
				(schema) -> schema.replace("TIMESTAMPTZ", "TIMESTAMP").replace("DATETIME(6)", "TIMESTAMP(6)"), database,
				(table) -> {
					table.runner()
						.run((context) -> assertThat(context).getFailure()
							.hasMessageContaining(
									"keeps times in columns of a type read in each session's time zone (created_at")
							.hasMessageContaining("expires_at"));
					table.recreate(UnaryOperator.identity());
					table.runner().run((context) -> assertThat(context).hasNotFailed());
				});
	}

	// Rounded to the second (PostgreSQL) or cut to it (MariaDB), a lease of about a
	// second may be written already run out, and a duplicate run beside its owner.
	@ParameterizedTest
	@ValueSource(strings = { "postgresql", "mariadb" })
	void tableKeepingLeaseEndsToTheSecondShouldFailStartup(String database) {
		withTableChangedBy(
				(schema) -> schema.replace("TIMESTAMPTZ", "TIMESTAMPTZ(0)").replace("DATETIME(6)", "DATETIME"),
				database, (table) -> {
					table.runner()
						.run((context) -> assertThat(context).getFailure()
							.hasMessageContaining("keeps expires_at to 0 fractional digits of a second"));
					table.recreate((schema) -> schema.replace("TIMESTAMPTZ", "TIMESTAMPTZ(3)")
						.replace("DATETIME(6)", "DATETIME(3)"));
					table.runner().run((context) -> assertThat(context).hasNotFailed());
				});
	}

	// A type of characters holds only those of its character set: a body that is no text
	// in it (compressed, an image) would fail to be stored, or be stored altered.
	@ParameterizedTest
	@ValueSource(strings = { "postgresql", "mariadb" })
	void bodyColumnOfCharactersShouldFailStartup(String database) {
		String characters = database.equals("postgresql") ? "TEXT" : "LONGTEXT";
		withTableChangedBy((schema) -> schema.replaceFirst("body +\\w+", "body " + characters), database, (table) -> {
			table.runner()
				.run((context) -> assertThat(context).getFailure()
					.hasMessageContaining("body column of the table of the idempotency store")
					.hasMessageContaining("which holds characters, not bytes"));
			table.recreate(UnaryOperator.identity());
			table.runner().run((context) -> assertThat(context).hasNotFailed());
		});
	}

	// A migration of the application's own may give the body a smaller type than the
	// shipped script's: every larger outcome would fail to be stored (or be cut short),
	// and its call run again on a retry.
	@Test
	void bodyColumnSmallerThanTheLargestOutcomeShouldFailStartup() {
		withTableChangedBy((schema) -> schema.replace("LONGBLOB", "BLOB"), "mariadb", (table) -> {
			table.runner()
				.run((context) -> assertThat(context).getFailure()
					.hasMessageContaining("body column of the table of the idempotency store")
					.hasMessageContaining("holds at most 65535 bytes, less than the 1048576 bytes"));
			table.runner()
				.withPropertyValues("idempotency.max-response-size=65535B", "idempotency.max-result-size=65535B")
				.run((context) -> assertThat(context).hasNotFailed());
		});
	}

	// A response with longer headers would fail to be stored (or have them cut short),
	// and its call run again on a retry.
	@ParameterizedTest
	@ValueSource(strings = { "postgresql", "mariadb" })
	void headersColumnOfAFewThousandCharactersShouldFailStartup(String database) {
		withTableChangedBy((schema) -> schema.replaceFirst("headers +\\w+", "headers VARCHAR(4000)"), database,
				(table) -> {
					table.runner()
						.run((context) -> assertThat(context).getFailure()
							.hasMessageContaining("headers column of the table of the idempotency store")
							.hasMessageContaining("holds at most 4000 characters, less than the 32768"));
					// MariaDB's TEXT: 65,535 bytes.
					table.recreate((schema) -> schema.replaceFirst("headers +\\w+", "headers TEXT"));
					table.runner().run((context) -> assertThat(context).hasNotFailed());
					// PostgreSQL's driver gives text the length it is told for types
					// without one.
					if (database.equals("postgresql")) {
						String url = PostgresTestServer.url();
						SimpleDriverDataSource shortUnknown = new SimpleDriverDataSource();
						shortUnknown.setDriverClass(org.postgresql.Driver.class);
						shortUnknown.setUrl(url + (url.contains("?") ? "&" : "?") + "unknownLength=4000");
						runnerOn(shortUnknown).run((context) -> assertThat(context).hasNotFailed());
					}
				});
	}

	// Every completion of a larger outcome would fail, and its call run again on a retry.
	@Test
	void outcomesLargerThanTheDatabaseTakesShouldFailStartup() {
		DataSource dataSource = mariaDb(null);
		long packet = new JdbcTemplate(dataSource).queryForObject("SELECT @@max_allowed_packet", Long.class);
		long largestBody = (packet - 64 * 1024) / 2;
		ApplicationContextRunner runner = runnerOn(dataSource)
			.withPropertyValues("idempotency.jdbc.initialize-schema=always");
		try {
			runner.withPropertyValues("idempotency.max-response-size=" + (largestBody + 1) + "B")
				.run((context) -> assertThat(context).getFailure()
					.hasMessageContaining("takes bodies of at most " + largestBody + " bytes")
					.hasMessageContaining("Lower idempotency.max-response-size and idempotency.max-result-size"));
			runner.withPropertyValues("idempotency.max-result-size=" + (largestBody + 1) + "B")
				.run((context) -> assertThat(context).getFailure().hasMessageContaining("max_allowed_packet"));
			runner
				.withPropertyValues("idempotency.max-response-size=" + largestBody + "B",
						"idempotency.max-result-size=" + largestBody + "B")
				.run((context) -> assertThat(context).hasNotFailed());
		}
		finally {
			new JdbcTemplate(dataSource).execute("DROP TABLE IF EXISTS " + TABLE);
		}
		this.runner.withPropertyValues("idempotency.jdbc.initialize-schema=always", "idempotency.max-result-size=600MB")
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining(
						"takes bodies of at most " + ((1L << 29) - 64 * 1024) + " bytes (half of a bytea value's"));
	}

	// CREATE TABLE IF NOT EXISTS leaves a table of that name as it finds it.
	@Test
	void tableWithoutTheStoresColumnsShouldFailStartupWhenAskedToCreateIt() {
		new JdbcTemplate(postgres())
			.execute("CREATE TABLE " + TABLE + " (record_key VARCHAR(128) PRIMARY KEY, expires_at TIMESTAMPTZ)");
		this.runner.withPropertyValues("idempotency.jdbc.initialize-schema=always")
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("exists without the columns it needs"));
	}

	// Creates the table as a migration of the application's own would: from the shipped
	// script as the change leaves it.
	private static void withTableChangedBy(UnaryOperator<String> change, String database,
			Consumer<ChangedTable> checks) {
		DataSource dataSource = database.equals("postgresql") ? postgres()
				: mariaDb(database.endsWith("schema-term") ? "useCatalogTerm=Schema" : null);
		ChangedTable table = new ChangedTable(dataSource);
		String changed = change.apply(table.store().schema());
		assertThat(changed).as("the changed script").isNotEqualTo(table.store().schema());
		table.jdbc().execute("DROP TABLE IF EXISTS " + TABLE);
		try {
			execute(dataSource, changed);
			checks.accept(table);
		}
		finally {
			table.jdbc().execute("DROP TABLE IF EXISTS " + TABLE);
		}
	}

	private record ChangedTable(DataSource dataSource, JdbcIdempotencyStore store, JdbcTemplate jdbc,
			ApplicationContextRunner runner) {

		ChangedTable(DataSource dataSource) {
			this(dataSource, new JdbcIdempotencyStore(dataSource, TABLE), new JdbcTemplate(dataSource),
					runnerOn(dataSource));
		}

		void recreate(UnaryOperator<String> change) {
			this.jdbc.execute("DROP TABLE " + TABLE);
			execute(this.dataSource, change.apply(this.store.schema()));
		}

	}

	private static void execute(DataSource dataSource, String script) {
		new ResourceDatabasePopulator(new ByteArrayResource(script.getBytes(StandardCharsets.UTF_8)))
			.execute(dataSource);
	}

	private static ApplicationContextRunner runnerOn(DataSource dataSource) {
		return new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(IdempotencyAutoConfiguration.class))
			.withBean(DataSource.class, () -> dataSource)
			.withPropertyValues("idempotency.jdbc.table-name=" + TABLE);
	}

	private static String schemaOf(JdbcTemplate jdbc) {
		return jdbc.execute((ConnectionCallback<String>) (connection) -> (connection.getSchema() != null)
				? connection.getSchema() : connection.getCatalog());
	}

	private static DataSource mariaDb(@Nullable String option) {
		String url = MariaDbTestServer.url();
		SimpleDriverDataSource dataSource = new SimpleDriverDataSource();
		dataSource.setDriverClass(org.mariadb.jdbc.Driver.class);
		dataSource.setUrl((option != null) ? url + (url.contains("?") ? "&" : "?") + option : url);
		return dataSource;
	}

	// A table of the same name in another database, with its key: its index must not
	// count for the one checked.
	@Test
	void tableOfTheSameNameInAnotherDatabaseShouldNotCount() {
		DataSource dataSource = mariaDb("useCatalogTerm=Schema");
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		jdbc.execute("CREATE DATABASE IF NOT EXISTS idempotency_other");
		try {
			new JdbcIdempotencyStore(dataSource, "idempotency_other." + TABLE).createTable();
			jdbc.execute("DROP TABLE IF EXISTS " + TABLE);
			JdbcIdempotencyStore store = new JdbcIdempotencyStore(dataSource, TABLE);
			store.createTable();
			assertThat(store.keepsKeysUnique()).isTrue();
			jdbc.execute("DROP TABLE " + TABLE);
			new ResourceDatabasePopulator(new ByteArrayResource(
					store.schema().replace("NOT NULL PRIMARY KEY", "NOT NULL").getBytes(StandardCharsets.UTF_8)))
				.execute(dataSource);
			assertThat(store.keepsKeysUnique()).isFalse();
		}
		finally {
			jdbc.execute("DROP TABLE IF EXISTS " + TABLE);
			jdbc.execute("DROP DATABASE IF EXISTS idempotency_other");
		}
	}

	@Test
	void redisShouldWinOverDataSourceUnlessJdbcIsChosen() {
		ApplicationContextRunner withRedis = this.runner
			.withConfiguration(AutoConfigurations.of(BootLine.redisAutoConfiguration()))
			.withPropertyValues("spring.data.redis.url=" + RedisTestServer.url(),
					"idempotency.jdbc.initialize-schema=always");
		withRedis.run((context) -> assertThat(context).hasSingleBean(RedisIdempotencyStore.class)
			.doesNotHaveBean(JdbcRecordPurger.class));
		withRedis.withPropertyValues("idempotency.store=jdbc")
			.run((context) -> assertThat(context).hasSingleBean(JdbcIdempotencyStore.class)
				.doesNotHaveBean(RedisIdempotencyStore.class));
	}

	@Test
	void blankStoreShouldCountAsUnset() {
		// As "${IDEMPOTENCY_STORE:}" gives when the variable is not set.
		ApplicationContextRunner blank = this.runner.withPropertyValues("idempotency.store= ",
				"idempotency.jdbc.initialize-schema=always");
		blank.run((context) -> assertThat(context).hasSingleBean(JdbcIdempotencyStore.class));
		blank.withConfiguration(AutoConfigurations.of(BootLine.redisAutoConfiguration()))
			.withPropertyValues("spring.data.redis.url=" + RedisTestServer.url())
			.run((context) -> assertThat(context).hasSingleBean(RedisIdempotencyStore.class)
				.doesNotHaveBean(InMemoryIdempotencyStore.class));
	}

	@Test
	void completeInTransactionShouldBeToldOfWhereTheStoreCannot(CapturedOutput output) {
		ApplicationContextRunner inTransaction = this.runner
			.withConfiguration(AutoConfigurations.of(BootLine.jacksonAutoConfiguration()))
			.withPropertyValues("idempotency.jdbc.initialize-schema=always",
					"idempotency.jdbc.complete-in-transaction=true");
		inTransaction.run((context) -> assertThat(context).hasSingleBean(IdempotentMethodInvoker.class));
		assertThat(output).doesNotContain("complete-in-transaction is set");
		inTransaction.withPropertyValues("idempotency.store=memory")
			.run((context) -> assertThat(context).hasSingleBean(IdempotentMethodInvoker.class));
		assertThat(output).contains("idempotency.jdbc.complete-in-transaction is set, but records are kept in memory");
	}

	// The getting-started guide sets it for Redis, one per application: under the JDBC
	// store it would keep nothing apart.
	@Test
	void keyPrefixShouldBeToldItDoesNotSeparateApplicationsSharingTheTable(CapturedOutput output) {
		new JdbcIdempotencyStore(postgres(), TABLE).createTable();
		this.runner.run((context) -> assertThat(context).hasNotFailed());
		assertThat(output).doesNotContain("idempotency.key-prefix");
		this.runner.withPropertyValues("idempotency.key-prefix=orders:idem")
			.run((context) -> assertThat(context).hasNotFailed());
		assertThat(output).contains("idempotency.key-prefix is set, but it names Redis keys only: records are kept"
				+ " in the table " + TABLE + ", shared by every application that uses it");
	}

	// Which of them is not for the starter to guess, and memory would protect one
	// node only.
	@Test
	void severalDataSourcesNoneOfThemPrimaryShouldFailStartup() {
		ApplicationContextRunner two = this.runner.withBean("reportingDataSource", DataSource.class,
				JdbcStoreAutoConfigurationTests::postgres);
		two.run((context) -> assertThat(context).getFailure()
			.rootCause()
			.hasMessageContaining("The application has 2 DataSource beans")
			.hasMessageContaining("reportingDataSource")
			.hasMessageContaining("none of them @Primary")
			.hasMessageContaining("set idempotency.store=memory to say memory is meant"));
		two.withPropertyValues("idempotency.store=memory")
			.run((context) -> assertThat(context).hasSingleBean(InMemoryIdempotencyStore.class));
		this.runner
			.withBean("reportingDataSource", DataSource.class, JdbcStoreAutoConfigurationTests::postgres,
					(definition) -> definition.setPrimary(true))
			.withPropertyValues("idempotency.jdbc.initialize-schema=always")
			.run((context) -> assertThat(context).hasSingleBean(JdbcIdempotencyStore.class));
	}

	// Redis comes before the database when no store is chosen: the factory meant was most
	// likely one of the two, and which is not for the starter to guess either.
	@Test
	void severalRedisFactoriesNoneOfThemPrimaryShouldFailStartupRatherThanChooseTheDatabase() {
		ApplicationContextRunner twoRedis = this.runner.withPropertyValues("idempotency.jdbc.initialize-schema=always")
			.withBean("cacheRedis", RedisConnectionFactory.class, JdbcStoreAutoConfigurationTests::redis)
			.withBean("sessionRedis", RedisConnectionFactory.class, JdbcStoreAutoConfigurationTests::redis);
		twoRedis.run((context) -> assertThat(context).getFailure()
			.rootCause()
			.hasMessageContaining("The application has 2 RedisConnectionFactory beans (cacheRedis, sessionRedis)")
			.hasMessageContaining(
					"none of them @Primary, so idempotency records would be kept in the DataSource instead")
			.hasMessageContaining("set idempotency.store=jdbc to keep them there"));
		twoRedis.withPropertyValues("idempotency.store=jdbc")
			.run((context) -> assertThat(context).hasSingleBean(JdbcIdempotencyStore.class));
		twoRedis.withPropertyValues("idempotency.store=redis")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("idempotency.store=redis, but the application has 2 RedisConnectionFactory"
						+ " beans (cacheRedis, sessionRedis) and none of them @Primary. Mark the one"));
		this.runner.withPropertyValues("idempotency.jdbc.initialize-schema=always")
			.withBean("cacheRedis", RedisConnectionFactory.class, JdbcStoreAutoConfigurationTests::redis)
			.withBean("sessionRedis", RedisConnectionFactory.class, JdbcStoreAutoConfigurationTests::redis,
					(definition) -> definition.setPrimary(true))
			.run((context) -> assertThat(context).hasSingleBean(RedisIdempotencyStore.class));
	}

	// Counted as Spring Boot counts the candidates for its single factory: a parent
	// context's count, and factories that are no candidates for injection do not.
	@Test
	void redisFactoriesShouldBeCountedAsSpringBootCountsThem() {
		try (AnnotationConfigApplicationContext parent = new AnnotationConfigApplicationContext()) {
			parent.registerBean("cacheRedis", RedisConnectionFactory.class, JdbcStoreAutoConfigurationTests::redis);
			parent.refresh();
			this.runner.withParent(parent)
				.withPropertyValues("idempotency.jdbc.initialize-schema=always")
				.withBean("sessionRedis", RedisConnectionFactory.class, JdbcStoreAutoConfigurationTests::redis)
				.run((context) -> assertThat(context).getFailure()
					.rootCause()
					.hasMessageContaining("2 RedisConnectionFactory beans (sessionRedis, cacheRedis)"));
		}
		this.runner.withPropertyValues("idempotency.jdbc.initialize-schema=always")
			.withBean("cacheRedis", RedisConnectionFactory.class, JdbcStoreAutoConfigurationTests::redis,
					(definition) -> definition.setAutowireCandidate(false))
			.withBean("sessionRedis", RedisConnectionFactory.class, JdbcStoreAutoConfigurationTests::redis,
					(definition) -> definition.setAutowireCandidate(false))
			.run((context) -> assertThat(context).hasSingleBean(JdbcIdempotencyStore.class));
	}

	private static RedisConnectionFactory redis() {
		return new LettuceConnectionFactory(
				new RedisStandaloneConfiguration(RedisTestServer.host(), RedisTestServer.port()));
	}

	// With several DataSources the application builds the store on the one it means: its
	// table is checked and its expired rows purged all the same.
	@Test
	void jdbcStoreOfTheApplicationsOwnShouldBeCheckedAndPurged() {
		this.runner.withBean("reportingDataSource", DataSource.class, JdbcStoreAutoConfigurationTests::postgres)
			.withBean(JdbcIdempotencyStore.class, () -> new JdbcIdempotencyStore(postgres(), TABLE))
			.withPropertyValues("idempotency.jdbc.initialize-schema=always")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(context.getBean(JdbcIdempotencyStore.class).hasTable()).isTrue();
				assertThat(context.getBean(JdbcRecordPurger.class).isRunning()).isTrue();
			});
	}

	// Bean conditions see the declared type only: such a store is found once it exists.
	@Test
	void jdbcStoreOfTheApplicationsOwnDeclaredAsAnyStoreShouldBeCheckedAndPurged() {
		JdbcIdempotencyStore store = new JdbcIdempotencyStore(postgres(), TABLE);
		this.runner.withBean(IdempotencyStore.class, () -> store)
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("idempotency.jdbc.initialize-schema=always"));
		store.createTable();
		new JdbcTemplate(postgres())
			.update("INSERT INTO " + TABLE + " (record_key, fingerprint, owner_token, created_at, expires_at)"
					+ " VALUES ('expired', 'f', 't', now() - interval '2 hours', now() - interval '1 hour')");
		this.runner.withBean(IdempotencyStore.class, () -> store).run((context) -> {
			assertThat(context).hasNotFailed().doesNotHaveBean(JdbcRecordPurger.class);
			assertThat(context.getBean(UntypedJdbcStoreMaintenance.class).isRunning()).isTrue();
			await().atMost(Duration.ofSeconds(10))
				.until(() -> new JdbcTemplate(postgres()).queryForObject("SELECT count(*) FROM " + TABLE,
						Integer.class) == 0);
		});
		this.runner.withBean(IdempotencyStore.class, () -> store)
			.withPropertyValues("idempotency.jdbc.purge.enabled=false")
			.run((context) -> assertThat(context.getBean(UntypedJdbcStoreMaintenance.class).isRunning()).isFalse());
	}

	@Test
	void dataSourceWithoutSpringJdbcShouldLeaveRecordsInMemory() {
		this.runner.withClassLoader(new FilteredClassLoader("org.springframework.jdbc"))
			.run((context) -> assertThat(context).hasSingleBean(InMemoryIdempotencyStore.class)
				.doesNotHaveBean(JdbcRecordPurger.class));
	}

	@Test
	void memoryChosenShouldBeKeptWithoutWarning(CapturedOutput output) {
		this.runner.withPropertyValues("idempotency.store=memory")
			.run((context) -> assertThat(context).hasSingleBean(InMemoryIdempotencyStore.class));
		assertThat(output).doesNotContain("kept in this JVM's memory");
	}

	@Test
	void jdbcChosenWithoutDataSourceShouldFailStartup() {
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(IdempotencyAutoConfiguration.class))
			.withPropertyValues("idempotency.store=jdbc")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("idempotency.store=jdbc, but the application has no DataSource"));
	}

	@Test
	void redisChosenWithoutRedisShouldFailStartup() {
		this.runner.withPropertyValues("idempotency.store=redis")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("idempotency.store=redis, but the application has no RedisConnectionFactory"));
	}

	@Test
	void purgeCanBeTurnedOff() {
		this.runner
			.withPropertyValues("idempotency.jdbc.initialize-schema=always", "idempotency.jdbc.purge.enabled=false")
			.run((context) -> assertThat(context).hasSingleBean(JdbcIdempotencyStore.class)
				.doesNotHaveBean(JdbcRecordPurger.class));
		// As it binds, and as a store the application declares reads it.
		this.runner
			.withPropertyValues("idempotency.jdbc.initialize-schema=always", "idempotency.jdbc.purge.enabled=off")
			.run((context) -> assertThat(context).hasSingleBean(JdbcIdempotencyStore.class)
				.doesNotHaveBean(JdbcRecordPurger.class));
		this.runner
			.withPropertyValues("idempotency.jdbc.initialize-schema=always", "idempotency.jdbc.purge.enabled=yes")
			.run((context) -> assertThat(context).hasSingleBean(JdbcRecordPurger.class));
		this.runner.withPropertyValues("idempotency.jdbc.purge.enabled=sometimes")
			.run((context) -> assertThat(context).getFailure()
				.hasStackTraceContaining(
						"Property idempotency.jdbc.purge.enabled with value 'sometimes' is invalid: it must be true or false"));
	}

	@Test
	void badJdbcSettingsShouldFailStartupNamingEachProperty() {
		this.runner
			.withPropertyValues("idempotency.jdbc.table-name=records; DROP TABLE x",
					"idempotency.jdbc.purge.interval=0s", "idempotency.jdbc.purge.batch-size=0")
			.run((context) -> assertThat(context).getFailure()
				.hasStackTraceContaining("idempotency.jdbc.table-name must be a plain SQL name")
				.hasStackTraceContaining("idempotency.jdbc.purge.interval must be positive")
				.hasStackTraceContaining("idempotency.jdbc.purge.batch-size must be at least 1"));
	}

}
