package io.github.idempotency.store.jdbc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
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
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.core.io.ByteArrayResource;
import org.springframework.core.io.ClassPathResource;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.jdbc.datasource.TransactionAwareDataSourceProxy;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;
import org.springframework.jdbc.support.JdbcUtils;
import org.springframework.jdbc.support.MetaDataAccessException;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.util.Assert;

/**
 * An {@link IdempotencyStore} in a table of a relational database (PostgreSQL or
 * MariaDB), shared by every node that uses the database.
 *
 * <p>
 * One row per record (the table is described by the scripts beside this class). A claim
 * first reads the key's live row, so that a replay only reads; when there is none, one
 * statement inserts the row, takes over a row whose time has passed, or (when another
 * claim won meanwhile) leaves the live row alone, and only then is the row read again.
 * Completion, renewal and release are single statements fenced by the owner token. Every
 * time comes from the database's clock, so the clocks of the application's nodes never
 * matter.
 *
 * <p>
 * Every method commits on its own, on a connection taken from the {@link DataSource} for
 * it alone, never the one a transaction of the calling thread holds (whatever transaction
 * manager bound it), so that another request sees a claim at once and a caller's rollback
 * never undoes one; a caller inside a transaction therefore holds a second connection for
 * the moment of each call. The one exception is {@link #completeInCurrentTransaction}: it
 * joins the thread's transaction on this store's {@link DataSource}, and the record
 * commits, or rolls back, with the caller's own writes.
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

	private static final Log logger = LogFactory.getLog(JdbcIdempotencyStore.class);

	// How often a claim starts again: after a row vanished or expired between its
	// statements, or after the database gave it up as a deadlock or serialization
	// failure (SQL state class 40), which concurrent upserts of one key may meet. A
	// completion, renewal or release meets the latter when the database runs its
	// statements above read committed and another write of the row (a renewal still
	// under way) commits while it waits.
	private static final int ATTEMPTS = 3;

	// MariaDB's and MySQL's ER_UNKNOWN_SYSTEM_VARIABLE.
	private static final int UNKNOWN_SYSTEM_VARIABLE = 1193;

	// What a completion's statement carries besides the body: its text, the key, the
	// owner token and the headers.
	private static final long STATEMENT_ROOM = 64 * 1024;

	private final DataSource dataSource;

	// Where the store's own connections come from: the DataSource itself, not a proxy
	// that would hand out the transaction's connection.
	private final DataSource connections;

	// For completions within the caller's transaction, which a JdbcTemplate joins.
	private final JdbcTemplate joining;

	private final JdbcDialect dialect;

	private final String tableName;

	private final String claim;

	private final String read;

	private final String complete;

	private final String completedBy;

	private final String renew;

	private final String release;

	private final String find;

	private final String delete;

	private final String purge;

	private final String description;

	// Set once the server turned out not to know innodb_snapshot_isolation.
	private volatile boolean snapshotsNeverChecked;

	// So that the fallback is told once, not on every call.
	private volatile boolean toldSnapshotsChecked;

	/**
	 * Creates a store that completes records in their own transactions, recognising the
	 * database from its driver.
	 * @param dataSource the database
	 * @param tableName the table of records, optionally qualified by its schema
	 */
	public JdbcIdempotencyStore(DataSource dataSource, String tableName) {
		this(dataSource, tableName, dialect(dataSource));
	}

	/**
	 * Creates a store.
	 * @param dataSource the database
	 * @param tableName the table of records, optionally qualified by its schema
	 * @param dialect the database's dialect
	 */
	public JdbcIdempotencyStore(DataSource dataSource, String tableName, JdbcDialect dialect) {
		Assert.isTrue(TABLE_NAME.matcher(tableName).matches(),
				() -> "Table name '" + tableName + "' is not a plain SQL name, optionally qualified by its schema");
		this.dataSource = dataSource;
		this.connections = (dataSource instanceof TransactionAwareDataSourceProxy proxy
				&& proxy.getTargetDataSource() != null) ? proxy.getTargetDataSource() : dataSource;
		this.joining = new JdbcTemplate(dataSource);
		this.dialect = dialect;
		this.tableName = tableName;
		this.claim = dialect.claim(tableName);
		this.read = dialect.sql("SELECT fingerprint, owner_token, completed_at, status, headers, body FROM TABLE"
				+ " WHERE record_key = ? AND expires_at > NOW_", tableName);
		this.complete = dialect.sql("UPDATE TABLE SET completed_at = NOW_, expires_at = NOW_ + INTERVAL_,"
				+ " status = ?, headers = ?, body = ? WHERE record_key = ? AND owner_token = ?"
				+ " AND completed_at IS NULL AND expires_at > NOW_", tableName);
		this.completedBy = dialect.sql("SELECT 1 FROM TABLE WHERE record_key = ? AND owner_token = ?"
				+ " AND completed_at IS NOT NULL AND expires_at > NOW_", tableName);
		this.renew = dialect.sql("UPDATE TABLE SET expires_at = NOW_ + INTERVAL_ WHERE record_key = ?"
				+ " AND owner_token = ? AND completed_at IS NULL AND expires_at > NOW_", tableName);
		this.release = dialect.sql("DELETE FROM TABLE WHERE record_key = ? AND owner_token = ?"
				+ " AND completed_at IS NULL AND expires_at > NOW_", tableName);
		this.find = dialect.sql("SELECT fingerprint, owner_token, completed_at, status, headers, body, created_at,"
				+ " REMAINING_ FROM TABLE WHERE record_key = ? AND expires_at > NOW_", tableName);
		// An expired row is absent, as in every store; the purge takes it.
		this.delete = dialect.sql("DELETE FROM TABLE WHERE record_key = ? AND expires_at > NOW_", tableName);
		this.purge = dialect.purge(tableName);
		this.description = "JDBC (" + dialect.name().toLowerCase(Locale.ROOT) + ", table " + tableName + ")";
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
	 * @throws IdempotencyStoreException if the database cannot be asked
	 */
	public boolean hasTable() {
		return probe(
				"record_key, fingerprint, owner_token, created_at, expires_at, completed_at, status, headers, body",
				(columns) -> Boolean.TRUE) != null;
	}

	/**
	 * The columns of times whose type is not the one the store's SQL expects:
	 * {@code TIMESTAMPTZ} on PostgreSQL, {@code DATETIME} on MariaDB. Their
	 * {@code TIMESTAMP} types read and write times in each session's time zone (on
	 * PostgreSQL the driver sets it to the JVM's), so two instances whose time zones
	 * differ disagree on whether a lease has run out, and both may run one call.
	 * @return each such column with its type, empty if there is none or no table
	 * @throws IdempotencyStoreException if the database cannot be asked
	 */
	public List<String> timeColumnsOfAnotherType() {
		List<String> others = probe("created_at, expires_at, completed_at", (columns) -> {
			List<String> found = new ArrayList<>();
			for (int i = 1; i <= columns.getColumnCount(); i++) {
				if (!columns.getColumnTypeName(i).equalsIgnoreCase(this.dialect.timeType())) {
					found.add(columns.getColumnName(i) + " " + columns.getColumnTypeName(i));
				}
			}
			return found;
		});
		return (others != null) ? others : List.of();
	}

	/**
	 * The fractional digits of seconds that {@code expires_at} keeps, when fewer than
	 * milliseconds: {@code TIMESTAMPTZ(0)}, or a MariaDB {@code DATETIME} without a
	 * precision, which keeps whole seconds. The database rounds (PostgreSQL, MySQL) or
	 * cuts (MariaDB) each lease's end to them, so a lease of a second or so may be
	 * written already run out, or run out before its first renewal, and a duplicate then
	 * runs beside its owner.
	 * @return the digits, or {@code null} if there are three or more, or no table
	 * @throws IdempotencyStoreException if the database cannot be asked
	 */
	public @Nullable Integer expiryDigitsBelowMilliseconds() {
		Integer digits = probe("expires_at", (columns) -> columns.getScale(1));
		return (digits != null && digits < 3) ? digits : null;
	}

	/**
	 * The type of the table's {@code body} column when it holds characters rather than
	 * bytes ({@code TEXT}, {@code LONGTEXT}): only those of its character set, so a body
	 * that is no text in it (gzip, an image, protobuf) fails to be stored, or is stored
	 * altered where the database replaces what it cannot keep.
	 * @return the type's name, or {@code null} if it holds bytes, or there is no table
	 * @throws IdempotencyStoreException if the database cannot be asked
	 */
	public @Nullable String bodyColumnOfCharacters() {
		return probe("body", (columns) -> switch (columns.getColumnType(1)) {
			case Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY, Types.BLOB -> null;
			default -> columns.getColumnTypeName(1);
		});
	}

	/**
	 * The most bytes the table's {@code body} column holds on MariaDB, as its type
	 * declares it to the driver: 65,535 for a {@code BLOB}, say. A larger body fails
	 * every completion, or is cut short where the database truncates instead. A
	 * PostgreSQL {@code bytea} has no limit of its own (its driver reports the
	 * connection's {@code unknownLength}).
	 * @return the bytes, or {@link Long#MAX_VALUE} where the type declares no smaller
	 * limit ({@code LONGBLOB}), on PostgreSQL, or if there is no table
	 * @throws IdempotencyStoreException if the database cannot be asked
	 */
	public long bodyColumnCapacity() {
		if (this.dialect != JdbcDialect.MARIADB) {
			return Long.MAX_VALUE;
		}
		Long capacity = probe("body", (columns) -> {
			int precision = columns.getPrecision(1);
			// LONGBLOB reports -1: no limit of its own.
			return (precision > 0 && precision < Integer.MAX_VALUE) ? precision : Long.MAX_VALUE;
		});
		return (capacity != null) ? capacity : Long.MAX_VALUE;
	}

	/**
	 * The most characters the table's {@code headers} column holds, as its type declares
	 * it to the driver: 255 for a {@code VARCHAR(255)} or MariaDB's {@code TINYTEXT},
	 * say. Longer headers fail the completion, or are cut short where the database
	 * truncates.
	 * @return the characters, or {@link Long#MAX_VALUE} where the type declares no limit
	 * of its own (PostgreSQL's {@code text}, MariaDB's {@code LONGTEXT}), or if there is
	 * no table
	 * @throws IdempotencyStoreException if the database cannot be asked
	 */
	public long headersColumnCapacity() {
		Long capacity = probe("headers", (columns) -> {
			// PostgreSQL's driver gives a type without a length of its own (text) the
			// connection's unknownLength, which may be set small: only a varchar or a
			// char declares one.
			if (this.dialect == JdbcDialect.POSTGRESQL
					&& !Set.of("varchar", "bpchar").contains(columns.getColumnTypeName(1))) {
				return Long.MAX_VALUE;
			}
			int precision = columns.getPrecision(1);
			return (precision > 0 && precision < Integer.MAX_VALUE) ? precision : Long.MAX_VALUE;
		});
		return (capacity != null) ? capacity : Long.MAX_VALUE;
	}

	// Reads the columns of an empty query of the table; null when the database has no
	// such table or columns.
	private <T> @Nullable T probe(String columns, ColumnsReader<T> reader) {
		String probe = "SELECT " + columns + " FROM " + this.tableName + " WHERE 1 = 0";
		try (Connection connection = this.connections.getConnection()) {
			try (Statement statement = connection.createStatement(); ResultSet empty = statement.executeQuery(probe)) {
				return reader.read(empty.getMetaData());
			}
			catch (SQLException ex) {
				// Syntax error or access rule violation: no such table, or no such
				// column.
				if (ex.getSQLState() != null && ex.getSQLState().startsWith("42")) {
					return null;
				}
				throw ex;
			}
			finally {
				if (!connection.getAutoCommit()) {
					connection.rollback();
				}
			}
		}
		catch (SQLException ex) {
			throw failure(ex);
		}
	}

	@FunctionalInterface
	private interface ColumnsReader<T> {

		T read(ResultSetMetaData columns) throws SQLException;

	}

	/**
	 * The largest body a completion can store, as far as the database limits what one
	 * statement carries. On MariaDB and MySQL, whose drivers send a statement's values
	 * within its text, where a byte of a body may take two, that is half of
	 * {@code max_allowed_packet} less room for the rest of the statement; larger bodies
	 * fail at every completion. On PostgreSQL, half of a {@code bytea} value's 1 GB less
	 * that room: the server sends a value back as hex text, two characters a byte, and
	 * fails to read one whose text would pass 1 GB.
	 * @return the size in bytes
	 * @throws IdempotencyStoreException if the database cannot be asked
	 */
	public long largestBody() {
		if (this.dialect != JdbcDialect.MARIADB) {
			return (1L << 29) - STATEMENT_ROOM;
		}
		long packet = outside((connection) -> {
			try (Statement statement = connection.createStatement();
					ResultSet result = statement.executeQuery("SELECT @@max_allowed_packet")) {
				result.next();
				return result.getLong(1);
			}
		});
		return Math.max(0, (packet - STATEMENT_ROOM) / 2);
	}

	/**
	 * Whether the table keeps each record key to one row: it has a unique index (its
	 * primary key, in the shipped script) on {@code record_key} alone. Without one, a
	 * claim on MariaDB inserts a second row for a key already claimed, and both calls
	 * run; on PostgreSQL every claim fails. A table the database's metadata does not show
	 * (a name in another case, a schema outside the current one), or whose indexes it
	 * will not give, counts as keeping them.
	 * @return {@code false} if the table is found without such an index
	 */
	public boolean keepsKeysUnique() {
		int dot = this.tableName.lastIndexOf('.');
		String qualifier = (dot >= 0) ? this.tableName.substring(0, dot) : null;
		try (Connection connection = this.connections.getConnection()) {
			DatabaseMetaData metaData = connection.getMetaData();
			String table = storedCase(metaData, this.tableName.substring(dot + 1));
			String catalog;
			String schema;
			if (this.dialect == JdbcDialect.MARIADB && connection.getSchema() == null) {
				// The drivers of MariaDB and MySQL name a database a catalog, unless told
				// to name it a schema; a null one would mean every database.
				catalog = (qualifier != null) ? qualifier : connection.getCatalog();
				schema = null;
			}
			else if (this.dialect == JdbcDialect.MARIADB) {
				catalog = connection.getCatalog();
				schema = (qualifier != null) ? qualifier : connection.getSchema();
			}
			else {
				catalog = null;
				schema = (qualifier != null) ? storedCase(metaData, qualifier) : connection.getSchema();
			}
			try (ResultSet tables = metaData.getTables(catalog, schema, table, null)) {
				if (!tables.next()) {
					return true;
				}
			}
			// By table as well as by name: the metadata of tables of that name elsewhere
			// must not add columns to this one's indexes.
			Map<String, Integer> columns = new HashMap<>();
			Set<String> onRecordKey = new HashSet<>();
			try (ResultSet index = metaData.getIndexInfo(catalog, schema, table, true, false)) {
				while (index.next()) {
					String name = index.getString("INDEX_NAME");
					String column = index.getString("COLUMN_NAME");
					if (name == null || column == null || index.getBoolean("NON_UNIQUE")) {
						continue;
					}
					String indexOfTable = index.getString("TABLE_CAT") + '\n' + index.getString("TABLE_SCHEM") + '\n'
							+ index.getString("TABLE_NAME") + '\n' + name;
					columns.merge(indexOfTable, 1, Integer::sum);
					if (column.equalsIgnoreCase("record_key")) {
						onRecordKey.add(indexOfTable);
					}
				}
			}
			return onRecordKey.stream().anyMatch((name) -> columns.get(name) == 1);
		}
		// Metadata the database will not give (rights, a driver's gap) leaves the table
		// unchecked, as a table it does not show does.
		catch (SQLException ex) {
			logger.debug("Could not read the indexes of " + this.tableName + " to check its record keys", ex);
			return true;
		}
	}

	private static String storedCase(DatabaseMetaData metaData, String identifier) throws SQLException {
		if (metaData.storesLowerCaseIdentifiers()) {
			return identifier.toLowerCase(Locale.ROOT);
		}
		return metaData.storesUpperCaseIdentifiers() ? identifier.toUpperCase(Locale.ROOT) : identifier;
	}

	/**
	 * Creates the table and its index with {@link #schema() the script} for the database,
	 * unless they exist.
	 */
	public void createTable() {
		ResourceDatabasePopulator populator = new ResourceDatabasePopulator();
		populator.addScript(new ByteArrayResource(schema().getBytes(StandardCharsets.UTF_8)));
		populator.execute(this.connections);
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
		// Whole words only, the index's name first: an index is named without its
		// schema, since it lives in its table's.
		String unqualified = this.tableName.substring(this.tableName.indexOf('.') + 1);
		return script
			.replaceAll("\\b" + DEFAULT_TABLE_NAME + "_expires_at\\b",
					Matcher.quoteReplacement(unqualified + "_expires_at"))
			.replaceAll("\\b" + DEFAULT_TABLE_NAME + "\\b", Matcher.quoteReplacement(this.tableName));
	}

	/**
	 * {@code true} if the thread runs a read-write transaction on this store's
	 * {@link DataSource} that sees rows other transactions commit: on PostgreSQL, one at
	 * read committed, as a snapshot taken before the claim committed would not find the
	 * claim's row; on MariaDB, also one at repeatable read, unless it checks its snapshot
	 * when it locks a row ({@code innodb_snapshot_isolation}, on by default since MariaDB
	 * 11.6.2), which fails the update of a claim committed after the transaction's first
	 * read.
	 */
	@Override
	public boolean canCompleteInCurrentTransaction() {
		if (!inTransaction()) {
			return false;
		}
		return isolation() <= Connection.TRANSACTION_READ_COMMITTED
				|| (this.dialect == JdbcDialect.MARIADB && !checksSnapshots());
	}

	// A read-write transaction on this store's DataSource: transaction managers bind the
	// DataSource itself, never a transaction-aware proxy of it.
	private boolean inTransaction() {
		return TransactionSynchronizationManager.isActualTransactionActive()
				&& !TransactionSynchronizationManager.isCurrentTransactionReadOnly()
				&& TransactionSynchronizationManager.hasResource(this.connections);
	}

	// The transaction's isolation; one PostgreSQL cannot tell (an aborted transaction,
	// which will roll back anyway) counts as one that cannot be joined.
	private int isolation() {
		Integer declared = TransactionSynchronizationManager.getCurrentTransactionIsolationLevel();
		if (declared != null) {
			return declared;
		}
		Connection connection = DataSourceUtils.getConnection(this.connections);
		try {
			return connection.getTransactionIsolation();
		}
		catch (SQLException ex) {
			return Connection.TRANSACTION_SERIALIZABLE;
		}
		finally {
			DataSourceUtils.releaseConnection(connection, this.connections);
		}
	}

	// Asked of the transaction's connection, as a session may set it. A server that does
	// not know the variable (MySQL, MariaDB before 10.6.18) does not check, and is not
	// asked again; one that cannot answer counts as checking.
	private boolean checksSnapshots() {
		if (this.snapshotsNeverChecked) {
			return false;
		}
		Connection connection = DataSourceUtils.getConnection(this.connections);
		try (Statement statement = connection.createStatement();
				ResultSet row = statement.executeQuery("SELECT @@innodb_snapshot_isolation")) {
			boolean checks = row.next() && row.getBoolean(1);
			if (checks && !this.toldSnapshotsChecked) {
				this.toldSnapshotsChecked = true;
				logger.warn("MariaDB checks the snapshot of transactions above read committed"
						+ " (innodb_snapshot_isolation): outcomes of calls in such transactions are stored after the"
						+ " commit, not within it. Run them at read committed to store them within it");
			}
			return checks;
		}
		catch (SQLException ex) {
			if (ex.getErrorCode() == UNKNOWN_SYSTEM_VARIABLE) {
				this.snapshotsNeverChecked = true;
				return false;
			}
			return true;
		}
		finally {
			DataSourceUtils.releaseConnection(connection, this.connections);
		}
	}

	@Override
	public ClaimResult claim(String key, String requestFingerprint, Duration lease) {
		String fingerprint = column(requestFingerprint);
		for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
			try {
				ClaimResult result = outside((connection) -> claim(connection, key, fingerprint, lease));
				if (result != null) {
					return result;
				}
			}
			catch (IdempotencyStoreException ex) {
				// Another transaction holds the row past the database's lock timeout: a
				// completion that joined the application's transaction, until that
				// commits (the lease the call ran under may have passed meanwhile), or
				// a purge. The key is not free, and not the store failing, beside which
				// an application that proceeds without its store would run the call.
				if (gaveUpWaitingForTheRow(ex)) {
					return new ClaimResult.InProgress();
				}
				if (!isConflict(ex)) {
					throw ex;
				}
				// Others keep writing the row, and the database answers: what the row
				// now holds (another call's claim, most likely) answers the claim, not a
				// failure, beside which an application that proceeds without its store
				// would run the call.
				if (attempt == ATTEMPTS) {
					ClaimResult found = outside((connection) -> read(connection, key, fingerprint, null));
					if (found == null) {
						throw ex;
					}
					logger.debug("Claim of " + key + " kept meeting other writes of its row; answered by what it holds",
							ex);
					return found;
				}
			}
		}
		throw new IdempotencyStoreException("The record " + key + " in " + this.tableName + " kept vanishing"
				+ " between a claim and the read after it");
	}

	// Another transaction's write came between the statement's reads and its write, or
	// between a claim's statements where the claim runs in a transaction of its own (a
	// pool that turns auto-commit off): a serialization failure or deadlock, or on
	// MariaDB a row locked that the snapshot does not hold (ER_CHECKREAD, under
	// innodb_snapshot_isolation). Tried again, the statement reads the row the other
	// wrote.
	private boolean isConflict(IdempotencyStoreException ex) {
		return ex.getCause() instanceof SQLException failure
				&& ((failure.getSQLState() != null && failure.getSQLState().startsWith("40"))
						|| (this.dialect == JdbcDialect.MARIADB && failure.getErrorCode() == 1020));
	}

	// PostgreSQL's lock_not_available (lock_timeout), MariaDB's ER_LOCK_WAIT_TIMEOUT
	// (innodb_lock_wait_timeout).
	private boolean gaveUpWaitingForTheRow(IdempotencyStoreException ex) {
		return ex.getCause() instanceof SQLException failure
				&& ((this.dialect == JdbcDialect.POSTGRESQL && "55P03".equals(failure.getSQLState()))
						|| (this.dialect == JdbcDialect.MARIADB && failure.getErrorCode() == 1205));
	}

	// The column holds 128 characters. The starter's fingerprints are 64 hex digits; a
	// longer one, written by a fingerprinter of the application's, is kept and compared
	// as its SHA-256, which tells two of them apart as well as the whole would.
	private static String column(String fingerprint) {
		if (fingerprint.length() <= 128) {
			return fingerprint;
		}
		try {
			byte[] digest = MessageDigest.getInstance("SHA-256").digest(fingerprint.getBytes(StandardCharsets.UTF_8));
			return "sha256:" + HexFormat.of().formatHex(digest);
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

	// Null when the row vanished or expired between the statements.
	private @Nullable ClaimResult claim(Connection connection, String key, String fingerprint, Duration lease)
			throws SQLException {
		ClaimResult found = read(connection, key, fingerprint, null);
		if (found != null) {
			return found;
		}
		String token = OwnerTokens.newToken();
		if (this.dialect.claimed(update(connection, this.claim, key, fingerprint, token, millis(lease)))) {
			return new ClaimResult.Claimed(token);
		}
		return read(connection, key, fingerprint, token);
	}

	private @Nullable ClaimResult read(Connection connection, String key, String fingerprint, @Nullable String token)
			throws SQLException {
		try (PreparedStatement statement = prepare(connection, this.read, key);
				ResultSet row = statement.executeQuery()) {
			if (!row.next()) {
				return null;
			}
			boolean completed = row.getObject(3) != null;
			if (!completed && token != null && token.equals(row.getString(2))) {
				return new ClaimResult.Claimed(token);
			}
			if (!fingerprint.equals(row.getString(1))) {
				return new ClaimResult.Mismatch();
			}
			return completed ? new ClaimResult.Completed(response(key, row)) : new ClaimResult.InProgress();
		}
	}

	@Override
	public boolean complete(String key, String token, StoredResponse response, Duration retention) {
		return fenced(this.complete, millis(retention), response.status(), headers(response), response.body(), key,
				token) || outside((connection) -> completedBy(connection, key, token));
	}

	// Whether the row is completed under this token already: a completion tried again
	// after a failure that stored it after all (a commit whose answer was lost) finds it
	// so, and the first response stays.
	private boolean completedBy(Connection connection, String key, String token) throws SQLException {
		try (PreparedStatement statement = prepare(connection, this.completedBy, key, token);
				ResultSet row = statement.executeQuery()) {
			return row.next();
		}
	}

	@Override
	public boolean completeInCurrentTransaction(String key, String token, StoredResponse response, Duration retention) {
		// Its isolation was asked when the completion was chosen.
		if (!inTransaction()) {
			throw new UnsupportedOperationException(
					"No transaction on this store's DataSource that a completion of " + key + " can join");
		}
		try {
			return this.joining.update(this.complete, millis(retention), response.status(), headers(response),
					response.body(), key, token) == 1;
		}
		catch (DataAccessException ex) {
			throw new IdempotencyStoreException("The database failed: " + ex.getMessage(), ex);
		}
	}

	@Override
	public boolean renew(String key, String token, Duration lease) {
		return fenced(this.renew, millis(lease), key, token);
	}

	@Override
	public boolean release(String key, String token) {
		return fenced(this.release, key, token);
	}

	// One statement that changes the row only while the token holds it: tried again
	// after a conflict, it finds the row as the other write left it.
	private boolean fenced(String sql, Object... arguments) {
		for (int attempt = 1;; attempt++) {
			try {
				return outside((connection) -> update(connection, sql, arguments)) == 1;
			}
			catch (IdempotencyStoreException ex) {
				if (attempt == ATTEMPTS || !isConflict(ex)) {
					throw ex;
				}
			}
		}
	}

	@Override
	public Optional<IdempotencyRecord> find(String key) {
		return Optional.ofNullable(outside((connection) -> {
			try (PreparedStatement statement = prepare(connection, this.find, key);
					ResultSet row = statement.executeQuery()) {
				if (!row.next()) {
					return null;
				}
				boolean completed = row.getObject(3) != null;
				return new IdempotencyRecord(completed ? State.COMPLETED : State.IN_PROGRESS, row.getString(1),
						this.dialect.instant(row, 7), this.dialect.instant(row, 3),
						Duration.ofMillis(Math.max(0, row.getLong(8))), completed ? response(key, row) : null);
			}
		}));
	}

	@Override
	public boolean delete(String key) {
		return outside((connection) -> update(connection, this.delete, key)) > 0;
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
		return outside((connection) -> {
			// InnoDB's range delete waits for the row past the last expired one when a
			// transaction holds it (a completion that joined its caller's). At repeatable
			// read it has locked the gap before that row meanwhile, and every claim whose
			// lease ends in the gap would wait as long; at read committed it locks no
			// gap.
			int isolation = connection.getTransactionIsolation();
			boolean lowered = this.dialect == JdbcDialect.MARIADB && isolation != Connection.TRANSACTION_READ_COMMITTED;
			if (lowered) {
				connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
			}
			try {
				return update(connection, this.purge, batchSize);
			}
			finally {
				if (lowered) {
					connection.setTransactionIsolation(isolation);
				}
			}
		});
	}

	private static String headers(StoredResponse response) {
		return new String(HeaderLines.encode(response.headers()), StandardCharsets.UTF_8);
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

	// On a connection of its own, committed before it goes back to the pool: auto-commit
	// as pools hand connections out, or a commit of its own when the pool turns
	// auto-commit off.
	private <T> T outside(Work<T> work) {
		try (Connection connection = this.connections.getConnection()) {
			boolean autoCommit = connection.getAutoCommit();
			try {
				T result = work.run(connection);
				if (!autoCommit) {
					connection.commit();
				}
				return result;
			}
			catch (SQLException | RuntimeException ex) {
				if (!autoCommit) {
					try {
						connection.rollback();
					}
					catch (SQLException rollbackFailure) {
						ex.addSuppressed(rollbackFailure);
					}
				}
				throw ex;
			}
		}
		catch (SQLException ex) {
			throw failure(ex);
		}
	}

	private static IdempotencyStoreException failure(SQLException ex) {
		return new IdempotencyStoreException("The database failed: " + ex.getMessage(), ex);
	}

	private static int update(Connection connection, String sql, Object... arguments) throws SQLException {
		try (PreparedStatement statement = prepare(connection, sql, arguments)) {
			return statement.executeUpdate();
		}
	}

	private static PreparedStatement prepare(Connection connection, String sql, Object... arguments)
			throws SQLException {
		PreparedStatement statement = connection.prepareStatement(sql);
		try {
			for (int i = 0; i < arguments.length; i++) {
				statement.setObject(i + 1, arguments[i]);
			}
			return statement;
		}
		catch (SQLException ex) {
			statement.close();
			throw ex;
		}
	}

	private static long millis(Duration duration) {
		return Math.max(1, duration.toMillis());
	}

	/**
	 * Statements on one connection.
	 */
	@FunctionalInterface
	private interface Work<T> {

		T run(Connection connection) throws SQLException;

	}

}
