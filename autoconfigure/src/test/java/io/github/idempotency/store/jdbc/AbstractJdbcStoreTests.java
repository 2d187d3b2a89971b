package io.github.idempotency.store.jdbc;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyRecord.State;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.UnreadableRecordException;
import io.github.idempotency.interceptor.Claim;
import io.github.idempotency.interceptor.Decision;
import io.github.idempotency.interceptor.IdempotencyLifecycle;
import io.github.idempotency.interceptor.IdempotencyPolicy;
import io.github.idempotency.interceptor.IdempotencyPolicy.OnStoreFailure;
import io.github.idempotency.interceptor.IdempotentOperation;
import liquibase.integration.spring.SpringLiquibase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.core.io.DefaultResourceLoader;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * What the JDBC store does beyond the shared contract, on each database it supports.
 */
@ExtendWith(OutputCaptureExtension.class)
abstract class AbstractJdbcStoreTests {

	private static final Duration LEASE = Duration.ofSeconds(30);

	private static final Duration RETENTION = Duration.ofMinutes(5);

	private static final StoredResponse CHARGED = new StoredResponse(201,
			Map.of("Content-Type", List.of("application/json")), "{\"id\":42}".getBytes(StandardCharsets.UTF_8));

	DataSource dataSource;

	JdbcTemplate jdbc;

	JdbcIdempotencyStore store;

	TransactionTemplate transaction;

	/**
	 * The database's JDBC URL, with its user.
	 */
	protected abstract String url();

	/**
	 * The URL of connections that give up waiting for a row lock within a second.
	 */
	protected abstract String urlWaitingBriefly();

	@BeforeEach
	void freshTables() {
		this.dataSource = JdbcStores.dataSource(url());
		this.store = JdbcStores.store(this.dataSource, "store_record");
		this.jdbc = new JdbcTemplate(this.dataSource);
		this.jdbc.execute("DROP TABLE IF EXISTS store_charge");
		this.jdbc.execute("CREATE TABLE store_charge (id VARCHAR(64) PRIMARY KEY)");
		this.transaction = new TransactionTemplate(new DataSourceTransactionManager(this.dataSource));
	}

	private static String newKey() {
		return UUID.randomUUID().toString().replace("-", "");
	}

	private String claim(String key) {
		return ((ClaimResult.Claimed) this.store.claim(key, "fp", LEASE)).token();
	}

	private int charges() {
		return this.jdbc.queryForObject("SELECT COUNT(*) FROM store_charge", Integer.class);
	}

	@Test
	void claimInsideTransactionShouldBeSeenAtOnceAndOutliveRollback() {
		String key = newKey();
		this.transaction.executeWithoutResult((status) -> {
			assertThat(this.store.claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
			// Another connection, as another node's, sees the claim before this
			// transaction ends.
			assertThat(JdbcStores.store(this.dataSource, "store_record", false).claim(key, "fp", LEASE))
				.isInstanceOf(ClaimResult.InProgress.class);
			status.setRollbackOnly();
		});
		assertThat(this.store.find(key))
			.hasValueSatisfying((record) -> assertThat(record.state()).isEqualTo(State.IN_PROGRESS));
	}

	// What JPA's transaction manager binds: the transaction's connection, not marked as
	// a transaction of Spring's JDBC support. A claim must still neither use nor commit
	// it.
	@Test
	void claimShouldNeverCommitConnectionBoundByAnotherTransactionManager() throws Exception {
		String key = newKey();
		try (Connection connection = this.dataSource.getConnection()) {
			connection.setAutoCommit(false);
			try (Statement statement = connection.createStatement()) {
				statement.executeUpdate("INSERT INTO store_charge (id) VALUES ('" + key + "')");
			}
			TransactionSynchronizationManager.bindResource(this.dataSource, new ConnectionHolder(connection));
			TransactionSynchronizationManager.initSynchronization();
			try {
				assertThat(this.store.claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
				assertThat(this.store.find(key)).isPresent();
			}
			finally {
				TransactionSynchronizationManager.clearSynchronization();
				TransactionSynchronizationManager.unbindResource(this.dataSource);
				connection.rollback();
			}
		}
		assertThat(charges()).isZero();
		assertThat(this.store.claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.InProgress.class);
	}

	@Test
	void completionJoiningTransactionThatCommitsShouldKeepRecordAndWritesTogether() {
		String key = newKey();
		String token = claim(key);
		this.transaction.executeWithoutResult((status) -> {
			assertThat(this.store.canCompleteInCurrentTransaction()).isTrue();
			this.jdbc.update("INSERT INTO store_charge (id) VALUES (?)", key);
			assertThat(this.store.completeInCurrentTransaction(key, token, CHARGED, RETENTION)).isTrue();
		});
		assertThat(charges()).isEqualTo(1);
		assertThat(this.store.claim(key, "fp", LEASE)).isEqualTo(new ClaimResult.Completed(CHARGED));
	}

	@Test
	void completionJoiningTransactionThatRollsBackShouldLeaveClaimToReleaseAndRetry() {
		String key = newKey();
		String token = claim(key);
		this.transaction.executeWithoutResult((status) -> {
			this.jdbc.update("INSERT INTO store_charge (id) VALUES (?)", key);
			assertThat(this.store.completeInCurrentTransaction(key, token, CHARGED, RETENTION)).isTrue();
			status.setRollbackOnly();
		});
		assertThat(charges()).isZero();
		assertThat(this.store.find(key)).hasValueSatisfying((record) -> {
			assertThat(record.state()).isEqualTo(State.IN_PROGRESS);
			assertThat(record.response()).isNull();
		});
		assertThat(this.store.release(key, token)).isTrue();
		assertThat(this.store.claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
	}

	// A completion that joined a transaction holds the record's row until the transaction
	// commits, which may be after the lease the call ran under passed. A claim that gives
	// up waiting for the row finds the key in progress, not the store failing, beside
	// which an application that proceeds without its store would run the call again.
	@Test
	void claimThatGaveUpWaitingForACompletionsRowShouldFindTheKeyInProgress() {
		String key = newKey();
		String token = ((ClaimResult.Claimed) this.store.claim(key, "fp", Duration.ofMillis(300))).token();
		JdbcIdempotencyStore waitingBriefly = JdbcStores.store(JdbcStores.dataSource(urlWaitingBriefly()),
				"store_record", false);
		this.transaction.executeWithoutResult((status) -> {
			assertThat(this.store.completeInCurrentTransaction(key, token, CHARGED, RETENTION)).isTrue();
			pause(Duration.ofMillis(500));
			assertThat(waitingBriefly.claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.InProgress.class);
		});
		assertThat(this.store.claim(key, "fp", LEASE)).isEqualTo(new ClaimResult.Completed(CHARGED));
	}

	// The lease is renewed as the completion joins the transaction, whose commit may
	// take longer than what was left of it: a duplicate meanwhile finds the key in
	// progress at once, rather than waiting for the row (PostgreSQL waits with no limit
	// by default, MariaDB 50 seconds).
	@Test
	void duplicateDuringASlowCommitShouldFindTheKeyInProgressAtOnce() throws Exception {
		IdempotencyLifecycle lifecycle = new IdempotencyLifecycle(this.store, new IdempotencyPolicy(RETENTION,
				Duration.ofSeconds(2), true, null, Duration.ofMinutes(1), Duration.ZERO, 255, OnStoreFailure.REJECT),
				(operation, outcome) -> {
				});
		IdempotentOperation operation = new IdempotentOperation("Ledger.book", null, "#p0", true, null, null, null,
				true, false, null, null, List.of(), null, null);
		String key = newKey();
		ExecutorService executor = Executors.newSingleThreadExecutor();
		try {
			Claim claim = ((Decision.Proceed) lifecycle.begin(operation, "Ledger#book", key, "fp")).claim();
			// Its lease runs out 2 s after the claim, unless renewed.
			claim.stopRenewal();
			pause(Duration.ofMillis(1200));
			this.transaction.executeWithoutResult((status) -> {
				this.jdbc.update("INSERT INTO store_charge (id) VALUES (?)", key);
				claim.completeInCurrentTransaction(CHARGED);
				pause(Duration.ofMillis(1200));
				Future<ClaimResult> duplicate = executor.submit(() -> this.store.claim(key, "fp", LEASE));
				assertThat(duplicate).succeedsWithin(Duration.ofSeconds(5)).isInstanceOf(ClaimResult.InProgress.class);
			});
		}
		finally {
			executor.shutdownNow();
			lifecycle.close();
		}
		assertThat(charges()).isEqualTo(1);
		assertThat(this.store.claim(key, "fp", LEASE)).isEqualTo(new ClaimResult.Completed(CHARGED));
	}

	private static void pause(Duration duration) {
		try {
			Thread.sleep(duration.toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	@Test
	void plainCompletionShouldCommitOnItsOwnWhateverTheTransaction() {
		String key = newKey();
		String token = claim(key);
		this.transaction.executeWithoutResult((status) -> {
			assertThat(this.store.complete(key, token, CHARGED, RETENTION)).isTrue();
			status.setRollbackOnly();
		});
		assertThat(this.store.claim(key, "fp", LEASE)).isEqualTo(new ClaimResult.Completed(CHARGED));
	}

	@Test
	void completionOutsideTransactionShouldBeRefused() {
		String key = newKey();
		String token = claim(key);
		assertThat(this.store.canCompleteInCurrentTransaction()).isFalse();
		assertThatExceptionOfType(UnsupportedOperationException.class)
			.isThrownBy(() -> this.store.completeInCurrentTransaction(key, token, CHARGED, RETENTION));
	}

	@Test
	void readOnlyTransactionShouldNotBeJoined() {
		this.transaction.setReadOnly(true);
		this.transaction
			.executeWithoutResult((status) -> assertThat(this.store.canCompleteInCurrentTransaction()).isFalse());
	}

	@Test
	void claimOfKilledProcessShouldBeTakenOverOnceItsLeasePasses() throws Exception {
		String key = newKey();
		Process owner = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
				System.getProperty("java.class.path"), ClaimThenHang.class.getName(), url(), "store_record", key,
				"3000")
			.redirectErrorStream(true)
			.start();
		try (BufferedReader output = new BufferedReader(new InputStreamReader(owner.getInputStream()))) {
			assertThat(output.readLine()).isEqualTo("claimed");
		}
		finally {
			owner.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
		}
		assertThat(this.store.claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.InProgress.class);
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		ClaimResult claim = this.store.claim(key, "fp", LEASE);
		while (!(claim instanceof ClaimResult.Claimed) && System.nanoTime() < deadline) {
			Thread.sleep(100);
			claim = this.store.claim(key, "fp", LEASE);
		}
		assertThat(claim).isInstanceOf(ClaimResult.Claimed.class);
	}

	@Test
	void purgeShouldDeleteOnlyExpiredRecordsInBatches() throws InterruptedException {
		String expiredClaim = newKey();
		this.store.claim(expiredClaim, "fp", Duration.ofMillis(50));
		String expiredResponse = newKey();
		this.store.complete(expiredResponse, claim(expiredResponse), CHARGED, Duration.ofMillis(50));
		String liveClaim = newKey();
		claim(liveClaim);
		String liveResponse = newKey();
		this.store.complete(liveResponse, claim(liveResponse), CHARGED, RETENTION);
		Thread.sleep(200);
		JdbcRecordPurger purger = new JdbcRecordPurger(this.store, Duration.ofMinutes(1), 1);
		assertThat(purger.purge()).isEqualTo(2);
		assertThat(this.jdbc.queryForList("SELECT record_key FROM store_record", String.class))
			.containsExactlyInAnyOrder(liveClaim, liveResponse);
		assertThat(this.store.purgeExpired(10)).isZero();
	}

	// A completion that joined its caller's transaction holds its row until the commit,
	// and a purge whose scan ends at that row waits for it. At MariaDB's repeatable read
	// the purge would meanwhile lock the gap before the row, where the lease of every
	// new claim ends, and hold up those claims until the transaction ends.
	@Test
	void purgeWaitingForARowATransactionHoldsShouldNotHoldUpClaims() throws Exception {
		this.store.claim(newKey(), "fp", Duration.ofMillis(50));
		this.store.claim(newKey(), "fp", Duration.ofMillis(50));
		String held = newKey();
		this.store.claim(held, "fp", Duration.ofMinutes(10));
		Thread.sleep(200);
		CountDownLatch holding = new CountDownLatch(1);
		CountDownLatch committing = new CountDownLatch(1);
		ExecutorService executor = Executors.newFixedThreadPool(3);
		try {
			Future<?> transaction = executor.submit(() -> this.transaction.executeWithoutResult((status) -> {
				this.jdbc.update("UPDATE store_record SET status = 201 WHERE record_key = ?", held);
				holding.countDown();
				try {
					committing.await(30, TimeUnit.SECONDS);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			}));
			assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
			Future<Integer> purge = executor.submit(() -> this.store.purgeExpired(100));
			// Time for the purge to reach the held row; on PostgreSQL it skips it.
			Thread.sleep(500);
			Future<ClaimResult> claim = executor.submit(() -> this.store.claim(newKey(), "fp", LEASE));

			assertThat(claim.get(5, TimeUnit.SECONDS)).isInstanceOf(ClaimResult.Claimed.class);
			committing.countDown();
			transaction.get(10, TimeUnit.SECONDS);
			assertThat(purge.get(10, TimeUnit.SECONDS)).isEqualTo(2);
		}
		finally {
			committing.countDown();
			executor.shutdownNow();
		}
	}

	@Test
	void purgerShouldRunOnItsOwnUntilStopped() throws InterruptedException {
		String key = newKey();
		this.store.claim(key, "fp", Duration.ofMillis(10));
		JdbcRecordPurger purger = new JdbcRecordPurger(this.store, Duration.ofMillis(50), 100);
		purger.start();
		try {
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
			while (rows() > 0 && System.nanoTime() < deadline) {
				Thread.sleep(20);
			}
			assertThat(rows()).isZero();
		}
		finally {
			purger.stop();
		}
		assertThat(purger.isRunning()).isFalse();
	}

	// More rows expire than one run may delete (a hundred batches): the next run comes at
	// once, not an interval later, or the table would grow for as long as that lasts.
	@Test
	void purgerBehindTheExpiredRowsShouldRunAgainAtOnce() throws InterruptedException {
		Timestamp past = Timestamp.from(Instant.now().minus(Duration.ofDays(1)));
		List<Object[]> rows = new ArrayList<>();
		for (int i = 0; i < 120; i++) {
			rows.add(new Object[] { newKey(), past, past });
		}
		this.jdbc.batchUpdate("INSERT INTO store_record (record_key, fingerprint, owner_token, created_at, expires_at)"
				+ " VALUES (?, 'fp', 'token', ?, ?)", rows);
		JdbcRecordPurger purger = new JdbcRecordPurger(this.store, Duration.ofHours(1), 1);
		purger.start();
		try {
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
			while (rows() > 0 && System.nanoTime() < deadline) {
				Thread.sleep(50);
			}
			assertThat(rows()).isZero();
		}
		finally {
			purger.stop();
		}
	}

	@Test
	void purgerShouldKeepTryingWhileTheDatabaseFails(CapturedOutput output) throws InterruptedException {
		JdbcIdempotencyStore unreachable = new JdbcIdempotencyStore(JdbcStores.unreachable(), "store_record",
				JdbcIdempotencyStore.dialect(this.dataSource));
		JdbcRecordPurger purger = new JdbcRecordPurger(unreachable, Duration.ofMillis(50), 100);
		purger.start();
		try {
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
			while (output.getAll().split("Could not purge expired idempotency records", -1).length < 3
					&& System.nanoTime() < deadline) {
				Thread.sleep(20);
			}
		}
		finally {
			purger.stop();
		}
		assertThat(output.getAll().split("Could not purge expired idempotency records", -1)).hasSizeGreaterThan(2);
	}

	private int rows() {
		return this.jdbc.queryForObject("SELECT COUNT(*) FROM store_record", Integer.class);
	}

	@Test
	void rowWithHeadersThatAreNotHeaderLinesShouldBeUnreadable() {
		String key = newKey();
		this.store.complete(key, claim(key), CHARGED, RETENTION);
		this.jdbc.update("UPDATE store_record SET headers = ? WHERE record_key = ?", "no colon\r\n", key);
		assertThatExceptionOfType(UnreadableRecordException.class).isThrownBy(() -> this.store.claim(key, "fp", LEASE))
			.withMessageContaining("store_record row " + key);
		assertThatExceptionOfType(UnreadableRecordException.class).isThrownBy(() -> this.store.find(key));
	}

	@Test
	void fingerprintLongerThanItsColumnShouldBeComparedByItsHash() {
		String key = newKey();
		String fingerprint = "x".repeat(300);
		String token = ((ClaimResult.Claimed) this.store.claim(key, fingerprint, LEASE)).token();
		assertThat(this.store.claim(key, fingerprint, LEASE)).isInstanceOf(ClaimResult.InProgress.class);
		assertThat(this.store.claim(key, "x".repeat(299) + "y", LEASE)).isInstanceOf(ClaimResult.Mismatch.class);
		this.store.complete(key, token, CHARGED, RETENTION);
		assertThat(this.store.claim(key, fingerprint, LEASE)).isInstanceOf(ClaimResult.Completed.class);
		assertThat(this.store.claim(key, "x".repeat(299) + "y", LEASE)).isInstanceOf(ClaimResult.Mismatch.class);
	}

	@Test
	void missingTableShouldBeReportedAndCreatedUnderItsName() {
		this.jdbc.execute("DROP TABLE IF EXISTS other_record");
		JdbcIdempotencyStore other = new JdbcIdempotencyStore(this.dataSource, "other_record");
		assertThat(other.hasTable()).isFalse();
		other.createTable();
		assertThat(other.hasTable()).isTrue();
		String key = newKey();
		assertThat(other.claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
		assertThat(this.store.find(key)).isEmpty();
		this.jdbc.execute("DROP TABLE other_record");
	}

	@Test
	void liquibaseChangelogShouldCreateTheTableTheStoreUses() throws Exception {
		// Liquibase's own tables are upper case, which MariaDB on Linux tells apart.
		for (String table : List.of("idempotency_record", "databasechangelog", "databasechangeloglock",
				"DATABASECHANGELOG", "DATABASECHANGELOGLOCK")) {
			this.jdbc.execute("DROP TABLE IF EXISTS " + table);
		}
		SpringLiquibase liquibase = new SpringLiquibase();
		liquibase.setDataSource(this.dataSource);
		liquibase.setChangeLog("classpath:io/github/idempotency/store/jdbc/liquibase-changelog.xml");
		liquibase.setResourceLoader(new DefaultResourceLoader());
		liquibase.afterPropertiesSet();
		JdbcIdempotencyStore migrated = new JdbcIdempotencyStore(this.dataSource,
				JdbcIdempotencyStore.DEFAULT_TABLE_NAME);
		assertThat(migrated.hasTable()).isTrue();
		assertThat(migrated.keepsKeysUnique()).isTrue();
		String key = newKey();
		assertThat(migrated.claim(key, "fp", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
	}

	@Test
	void tableInSchemaOfItsOwnOrWithLongerNameShouldBeCreatedAndUsed() {
		createSchema("idempotency_schema");
		for (String table : List.of("idempotency_schema.idempotency_record", "idempotency_record2")) {
			this.jdbc.execute("DROP TABLE IF EXISTS " + table);
			JdbcIdempotencyStore other = new JdbcIdempotencyStore(this.dataSource, table);
			other.createTable();
			// Twice, as two instances starting at once would.
			other.createTable();
			assertThat(other.hasTable()).isTrue();
			assertThat(other.keepsKeysUnique()).isTrue();
			assertThat(other.claim(newKey(), "fp", LEASE)).isInstanceOf(ClaimResult.Claimed.class);
			this.jdbc.execute("DROP TABLE " + table);
		}
	}

	@Test
	void instancesCreatingTheTableAtOnceShouldAllStart() throws Exception {
		this.jdbc.execute("DROP TABLE IF EXISTS raced_record");
		JdbcIdempotencyStore raced = new JdbcIdempotencyStore(this.dataSource, "raced_record");
		int instances = 8;
		ExecutorService executor = Executors.newFixedThreadPool(instances);
		try {
			CountDownLatch start = new CountDownLatch(1);
			List<Future<?>> checks = new ArrayList<>();
			for (int i = 0; i < instances; i++) {
				checks.add(executor.submit(() -> {
					start.await();
					new JdbcSchemaCheck(raced, true, 1024 * 1024).afterSingletonsInstantiated();
					return null;
				}));
			}
			start.countDown();
			for (Future<?> check : checks) {
				check.get(30, TimeUnit.SECONDS);
			}
		}
		finally {
			executor.shutdownNow();
		}
		assertThat(raced.hasTable()).isTrue();
		this.jdbc.execute("DROP TABLE raced_record");
	}

	/**
	 * Creates a schema (on MariaDB, a database) if it does not exist.
	 */
	protected abstract void createSchema(String name);

	@Test
	void tableNameThatIsNotPlainSqlNameShouldBeRefused() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> new JdbcIdempotencyStore(this.dataSource, "records; DROP TABLE x"))
			.withMessageContaining("not a plain SQL name");
	}

	@Test
	void unreachableDatabaseShouldBeReportedAsStoreFailure() {
		JdbcIdempotencyStore unreachable = new JdbcIdempotencyStore(JdbcStores.unreachable(), "store_record",
				JdbcIdempotencyStore.dialect(this.dataSource));
		assertThatExceptionOfType(IdempotencyStoreException.class)
			.isThrownBy(() -> unreachable.claim(newKey(), "fp", LEASE))
			.withMessageStartingWith("The database failed");
	}

}
