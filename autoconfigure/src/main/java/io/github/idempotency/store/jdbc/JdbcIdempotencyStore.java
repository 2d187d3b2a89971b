package io.github.idempotency.store.jdbc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import io.github.idempotency.ClaimResult;
import io.github.idempotency.IdempotencyRecord;
import io.github.idempotency.IdempotencyRecord.State;
import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.IdempotencyStoreException;
import io.github.idempotency.StoredResponse;
import io.github.idempotency.UnreadableRecordException;
import io.github.idempotency.store.HeaderLines;
import io.github.idempotency.store.OwnerTokens;

import org.springframework.core.io.ByteArrayResource;
import org.springframework.core.io.ClassPathResource;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.BadSqlGrammarException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;
import org.springframework.jdbc.support.JdbcUtils;
import org.springframework.jdbc.support.MetaDataAccessException;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.Assert;

/**
 * An {@link IdempotencyStore} in a table of a relational database (PostgreSQL or
 * MariaDB), shared by every node that uses the database.
 *
 * <p>
 * One row per record (the table is described by the scripts beside this class). A claim
 * is one statement that inserts the row, takes over a row whose time has passed, or
 * leaves a live row alone; only when it did not take the key does the store read the row
 * to say what holds it. Completion, renewal and release are single statements fenced by
 * the owner token. Every time comes from the database's clock, so the clocks of the
 * application's nodes never matter.
 *
 * <p>
 * Claims, renewals and releases always commit on their own, outside any transaction the
 * calling thread runs ({@code REQUIRES_NEW}), so that another request sees a claim at
 * once and a caller's rollback never undoes one. A completion does too, unless the store
 * was built to complete in transactions: then a completion on a thread with a transaction
 * on this store's {@link DataSource} joins it, and the record commits, or rolls back,
 * with the caller's own writes.
 *
 * <p>
 * Thread-safe.
 *
 * @since 0.1.0
 */
public class JdbcIdempotencyStore implements IdempotencyStore {

	/**
	 * The table name used when none is given.
	 */
	public static final String DEFAULT_TABLE_NAME = "idempotency_record";

	private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");

	// How often a claim looks again for a row that vanished or expired between its
	// statement and the read that follows.
	private static final int CLAIM_ATTEMPTS = 3;

	private final DataSource dataSource;

	private final JdbcTemplate jdbc;

	private final TransactionTemplate ownTransaction;

	private final JdbcDialect dialect;

	private final String tableName;

	private final boolean completeInTransaction;

	private final String claim;

	private final String decide;

	private final String complete;

	private final String renew;

	private final String release;

	private final String find;

	private final String delete;

	private final String purge;

	private final String description;

	/**
	 * Creates a store that completes records in their own transactions, recognising the
	 * database from its driver.
	 * @param dataSource the database
	 * @param tableName the table of records, optionally qualified by its schema
	 */
	public JdbcIdempotencyStore(DataSource dataSource, String tableName) {
		this(dataSource, tableName, dialect(dataSource), false);
	}

	/**
	 * Creates a store.
	 * @param dataSource the database
	 * @param tableName the table of records, optionally qualified by its schema
	 * @param dialect the database's dialect
	 * @param completeInTransaction whether a completion joins the transaction the calling
	 * thread runs on the same {@link DataSource}
	 */
	public JdbcIdempotencyStore(DataSource dataSource, String tableName, JdbcDialect dialect,
			boolean completeInTransaction) {
		Assert.isTrue(TABLE_NAME.matcher(tableName).matches(),
				() -> "Table name '" + tableName + "' is not a plain SQL name, optionally qualified by its schema");
		this.dataSource = dataSource;
		this.jdbc = new JdbcTemplate(dataSource);
		// Its own transaction manager: a caller's may be JPA's, or none.
		this.ownTransaction = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
		this.ownTransaction.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
		this.dialect = dialect;
		this.tableName = tableName;
		this.completeInTransaction = completeInTransaction;
		this.claim = dialect.claim(tableName);
		this.decide = dialect.sql("SELECT fingerprint, owner_token, completed_at, status, headers, body FROM TABLE"
				+ " WHERE record_key = ? AND expires_at > NOW_", tableName);
		this.complete = dialect.sql("UPDATE TABLE SET completed_at = NOW_, expires_at = NOW_ + INTERVAL_,"
				+ " status = ?, headers = ?, body = ? WHERE record_key = ? AND owner_token = ?"
				+ " AND completed_at IS NULL AND expires_at > NOW_", tableName);
		this.renew = dialect.sql("UPDATE TABLE SET expires_at = NOW_ + INTERVAL_ WHERE record_key = ?"
				+ " AND owner_token = ? AND completed_at IS NULL AND expires_at > NOW_", tableName);
		this.release = dialect.sql("DELETE FROM TABLE WHERE record_key = ? AND owner_token = ?"
				+ " AND completed_at IS NULL AND expires_at > NOW_", tableName);
		this.find = dialect.sql("SELECT fingerprint, owner_token, completed_at, status, headers, body, created_at,"
				+ " REMAINING_ FROM TABLE WHERE record_key = ? AND expires_at > NOW_", tableName);
		this.delete = dialect.sql("DELETE FROM TABLE WHERE record_key = ?", tableName);
		this.purge = dialect.purge(tableName);
		this.description = "JDBC (" + dialect.name().toLowerCase(Locale.ROOT) + ", table " + tableName
				+ ((completeInTransaction) ? ", completions join the caller's transaction)" : ")");
	}

	/**
	 * The dialect of the database behind a {@link DataSource}, read from its driver.
	 * @param dataSource the database
	 * @return its dialect
	 * @throws IllegalStateException if the database cannot be reached or is not one the
	 * store supports
	 */
	public static JdbcDialect dialect(DataSource dataSource) {
		try {
			return JdbcDialect
				.of(JdbcUtils.extractDatabaseMetaData(dataSource, DatabaseMetaData::getDatabaseProductName));
		}
		catch (MetaDataAccessException ex) {
			throw new IllegalStateException(
					"Could not tell which database the idempotency store's DataSource is: " + ex.getMessage(), ex);
		}
	}

	/**
	 * Where records live, for logs: the database and the table.
	 */
	@Override
	public String toString() {
		return this.description;
	}

	/**
	 * The database's dialect.
	 * @return the dialect
	 */
	public JdbcDialect dialect() {
		return this.dialect;
	}

	/**
	 * The table of records, as configured.
	 * @return the table's name
	 */
	public String tableName() {
		return this.tableName;
	}

	/**
	 * Whether the table exists with the columns this store uses.
	 * @return {@code true} if it does
	 * @throws DataAccessException if the database cannot be asked
	 */
	public boolean hasTable() {
		try {
			this.jdbc.queryForList("SELECT record_key, fingerprint, owner_token, created_at, expires_at, completed_at,"
					+ " status, headers, body FROM " + this.tableName + " WHERE 1 = 0");
			return true;
		}
		catch (BadSqlGrammarException ex) {
			return false;
		}
	}

	/**
	 * Creates the table and its index with {@link #schema() the script} for the database.
	 */
	public void createTable() {
		ResourceDatabasePopulator populator = new ResourceDatabasePopulator();
		populator.addScript(new ByteArrayResource(schema().getBytes(StandardCharsets.UTF_8)));
		populator.execute(this.dataSource);
	}

	/**
	 * The script that creates this store's table and its index on its database: the
	 * script shipped beside this class, with the table's name put in.
	 * @return the SQL
	 */
	public String schema() {
		String script;
		try {
			script = new ClassPathResource(this.dialect.schemaScript(), JdbcIdempotencyStore.class)
				.getContentAsString(StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		// An index is named without its schema: it lives in its table's.
		String unqualified = this.tableName.substring(this.tableName.indexOf('.') + 1);
		return script.replace(DEFAULT_TABLE_NAME + "_expires_at", unqualified + "_expires_at")
			.replace(DEFAULT_TABLE_NAME, this.tableName);
	}

	/**
	 * {@code true} if the store was built to complete in transactions and the thread runs
	 * a read-write transaction on this store's {@link DataSource}.
	 */
	@Override
	public boolean canCompleteInCurrentTransaction() {
		return this.completeInTransaction && TransactionSynchronizationManager.isActualTransactionActive()
				&& !TransactionSynchronizationManager.isCurrentTransactionReadOnly()
				&& TransactionSynchronizationManager.hasResource(this.dataSource);
	}

	@Override
	public ClaimResult claim(String key, String fingerprint, Duration lease) {
		Assert.isTrue(fingerprint.length() <= 128, "fingerprint must not be longer than 128 characters");
		for (int attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
			String token = OwnerTokens.newToken();
			int count = outside(() -> this.jdbc.update(this.claim, key, fingerprint, token, millis(lease)));
			if (this.dialect.claimed(count)) {
				return new ClaimResult.Claimed(token);
			}
			ClaimResult found = outside(() -> this.jdbc.query(this.decide,
					(rows) -> rows.next() ? decide(key, rows, fingerprint, token) : null, key));
			if (found != null) {
				return found;
			}
		}
		throw new IdempotencyStoreException("The record " + key + " in " + this.tableName + " kept vanishing"
				+ " between a claim and the read after it");
	}

	private ClaimResult decide(String key, ResultSet row, String fingerprint, String token) throws SQLException {
		boolean completed = row.getObject(3) != null;
		if (!completed && token.equals(row.getString(2))) {
			return new ClaimResult.Claimed(token);
		}
		if (!fingerprint.equals(row.getString(1))) {
			return new ClaimResult.Mismatch();
		}
		return completed ? new ClaimResult.Completed(response(key, row)) : new ClaimResult.InProgress();
	}

	@Override
	public boolean complete(String key, String token, StoredResponse response, Duration retention) {
		return outside(() -> storeResponse(key, token, response, retention));
	}

	@Override
	public boolean completeInCurrentTransaction(String key, String token, StoredResponse response, Duration retention) {
		if (!canCompleteInCurrentTransaction()) {
			throw new UnsupportedOperationException("No transaction on this store's DataSource to complete " + key
					+ " in, or completion in transactions is off");
		}
		return run(() -> storeResponse(key, token, response, retention));
	}

	private boolean storeResponse(String key, String token, StoredResponse response, Duration retention) {
		return this.jdbc.update(this.complete, millis(retention), response.status(),
				new String(HeaderLines.encode(response.headers()), StandardCharsets.UTF_8), response.body(), key,
				token) == 1;
	}

	@Override
	public boolean renew(String key, String token, Duration lease) {
		return outside(() -> this.jdbc.update(this.renew, millis(lease), key, token)) == 1;
	}

	@Override
	public boolean release(String key, String token) {
		return outside(() -> this.jdbc.update(this.release, key, token)) == 1;
	}

	@Override
	public Optional<IdempotencyRecord> find(String key) {
		return Optional.ofNullable(outside(() -> this.jdbc.query(this.find, (row) -> {
			if (!row.next()) {
				return null;
			}
			boolean completed = row.getObject(3) != null;
			return new IdempotencyRecord(completed ? State.COMPLETED : State.IN_PROGRESS, row.getString(1),
					this.dialect.instant(row, 7), this.dialect.instant(row, 3),
					Duration.ofMillis(Math.max(0, row.getLong(8))), completed ? response(key, row) : null);
		}, key)));
	}

	@Override
	public boolean delete(String key) {
		return outside(() -> this.jdbc.update(this.delete, key)) > 0;
	}

	/**
	 * Deletes up to a batch of records whose retention or lease has passed, in one
	 * statement of its own. Safe to run on several instances at once.
	 * @param batchSize the most rows to delete
	 * @return how many were deleted
	 * @throws IdempotencyStoreException if the database cannot be reached
	 */
	public int purgeExpired(int batchSize) {
		Assert.isTrue(batchSize > 0, "batchSize must be positive");
		return outside(() -> this.jdbc.update(this.purge, batchSize));
	}

	// Columns 4 to 6 of both reads: status, headers, body.
	private StoredResponse response(String key, ResultSet row) throws SQLException {
		try {
			String headers = row.getString(5);
			byte[] body = row.getBytes(6);
			return new StoredResponse(row.getInt(4),
					(headers != null) ? HeaderLines.decode(headers.getBytes(StandardCharsets.UTF_8)) : Map.of(),
					(body != null) ? body : new byte[0]);
		}
		// Anything can write to the table: every way a row can fail to read means the
		// same, and none may reach a client.
		catch (RuntimeException ex) {
			throw new UnreadableRecordException(this.tableName + " row " + key, String.valueOf(ex.getMessage()), ex);
		}
	}

	// Outside whatever transaction the thread runs; without one, a plain statement in
	// auto-commit mode, which saves the round trips of a transaction of its own.
	private <T> T outside(Supplier<T> work) {
		if (TransactionSynchronizationManager.isSynchronizationActive()
				|| TransactionSynchronizationManager.hasResource(this.dataSource)) {
			return run(() -> this.ownTransaction.execute((status) -> work.get()));
		}
		return run(work);
	}

	private static <T> T run(Supplier<T> work) {
		try {
			return work.get();
		}
		catch (DataAccessException ex) {
			throw new IdempotencyStoreException("The database failed: " + ex.getMessage(), ex);
		}
	}

	private static long millis(Duration duration) {
		return Math.max(1, duration.toMillis());
	}

}
