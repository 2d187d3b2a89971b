package io.github.idempotency.store.jdbc;

import java.util.List;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.dao.DataAccessException;

/**
 * Checks at startup that the table of a {@link JdbcIdempotencyStore} exists, and creates
 * it when told to, and that the database takes the largest outcome the application keeps.
 * Runs once every singleton exists, so that migrations Flyway or Liquibase apply while
 * the context starts have run by then.
 *
 * @since 0.1.0
 */
public class JdbcSchemaCheck implements SmartInitializingSingleton {

	private static final Log logger = LogFactory.getLog(JdbcSchemaCheck.class);

	// Room for the headers a response is replayed with (a long Location, several
	// cookies): servers send up to 8 KB of headers by default, some far more.
	private static final long LONGEST_HEADERS = 32 * 1024;

	private final JdbcIdempotencyStore store;

	private final boolean createMissingTable;

	private final long largestOutcome;

	/**
	 * @param store the store whose table is checked
	 * @param createMissingTable whether a missing table is created rather than reported
	 * @param largestOutcome the largest body, in bytes, the application stores: the
	 * larger of {@code idempotency.max-response-size} and
	 * {@code idempotency.max-result-size}
	 */
	public JdbcSchemaCheck(JdbcIdempotencyStore store, boolean createMissingTable, long largestOutcome) {
		this.store = store;
		this.createMissingTable = createMissingTable;
		this.largestOutcome = largestOutcome;
	}

	/**
	 * @throws IllegalStateException if the table is missing and is not to be created,
	 * lacks columns, does not keep each record key to one row, keeps times in a type read
	 * in each session's time zone or lease ends to less than milliseconds, or has a body
	 * column of characters or too small for the largest outcome or a headers column of
	 * fewer than 32,768 characters, or if the database refuses statements that carry that
	 * outcome
	 */
	@Override
	public void afterSingletonsInstantiated() {
		if (!this.store.hasTable()) {
			if (!this.createMissingTable) {
				throw new IllegalStateException("The idempotency store " + this.store + " has no table of the columns"
						+ " it needs. Create it with a migration of your own (the SQL is classpath:io/github/idempotency/"
						+ "store/jdbc/" + this.store.dialect().schemaScript()
						+ " in the auto-configuration jar), or set"
						+ " idempotency.jdbc.initialize-schema=always to have it created at startup:\n"
						+ this.store.schema());
			}
			create();
		}
		requireUniqueKeys();
		requireTimesInOneZone();
		requireExpiryInMilliseconds();
		requireBodyOfBytes();
		requireRoomForTheLargestOutcome();
		requireRoomForHeaders();
	}

	private void create() {
		try {
			this.store.createTable();
		}
		catch (DataAccessException ex) {
			// Another instance starting at the same moment may have created it first.
			if (this.store.hasTable()) {
				return;
			}
			throw ex;
		}
		// The script creates the table only where there is none: one of that name
		// without the columns, or whose columns the store may not read, is left as it is.
		if (!this.store.hasTable()) {
			throw new IllegalStateException("The table of the idempotency store " + this.store + " exists without the"
					+ " columns it needs, or the store may not read them; it was left as it is. Drop it or migrate it"
					+ " to the shipped script's:\n" + this.store.schema());
		}
		logger.info("Created the table of idempotency records for " + this.store);
	}

	// A table made by a migration of the application's own may lack the primary key.
	private void requireUniqueKeys() {
		if (!this.store.keepsKeysUnique()) {
			throw new IllegalStateException("The table of the idempotency store " + this.store + " has no unique index"
					+ " on record_key alone: two claims of one key would not exclude each other. Make record_key its"
					+ " primary key, as the shipped script does:\n" + this.store.schema());
		}
	}

	// Every completion of a body that is not text would fail (or store it altered), leave
	// its key in progress until the lock timeout passes, and let a retry run the call
	// again.
	private void requireBodyOfBytes() {
		String type = this.store.bodyColumnOfCharacters();
		if (type != null) {
			throw new IllegalStateException("The body column of the table of the idempotency store " + this.store
					+ " is of " + type + ", which holds characters, not bytes: a body that is not text in its"
					+ " character set (compressed, an image, protobuf) would fail to be stored, or be stored altered,"
					+ " and its call would run again on a retry. Give it the shipped script's type:\n"
					+ this.store.schema());
		}
	}

	// Every completion of a larger outcome would fail, leave its key in progress until
	// the lock timeout passes, and let a retry run the call again.
	private void requireRoomForTheLargestOutcome() {
		long column = this.store.bodyColumnCapacity();
		if (this.largestOutcome > column) {
			throw new IllegalStateException("The body column of the table of the idempotency store " + this.store
					+ " holds at most " + column + " bytes, less than the " + this.largestOutcome + " bytes the"
					+ " application may store: every larger outcome would fail to be stored (or be cut short), and"
					+ " its call would run again on a retry. Give it the shipped script's type, or lower"
					+ " idempotency.max-response-size and idempotency.max-result-size to at most " + column
					+ " bytes:\n" + this.store.schema());
		}
		long largestBody = this.store.largestBody();
		if (this.largestOutcome > largestBody) {
			boolean packets = this.store.dialect() == JdbcDialect.MARIADB;
			throw new IllegalStateException("The database of the idempotency store " + this.store + " takes bodies"
					+ " of at most " + largestBody + " bytes ("
					+ (packets ? "half of its max_allowed_packet once 64 KB is set aside for the rest of the statement"
							: "half of a bytea value's 1 GB, as PostgreSQL reads one back in hex, less 64 KB")
					+ "), less than the " + this.largestOutcome + " bytes the application may store: every larger"
					+ " outcome would fail to be stored, and its call would run again on a retry. Lower"
					+ " idempotency.max-response-size and idempotency.max-result-size to at most " + largestBody
					+ " bytes" + (packets ? ", or raise the database's max_allowed_packet." : "."));
		}
	}

	private void requireRoomForHeaders() {
		long column = this.store.headersColumnCapacity();
		if (column < LONGEST_HEADERS) {
			throw new IllegalStateException("The headers column of the table of the idempotency store " + this.store
					+ " holds at most " + column + " characters, less than the " + LONGEST_HEADERS + " a response's"
					+ " replayed headers may take: an outcome with longer ones would fail to be stored (or be cut"
					+ " short), and its call would run again on a retry. Give it the shipped script's type:\n"
					+ this.store.schema());
		}
	}

	private void requireExpiryInMilliseconds() {
		Integer digits = this.store.expiryDigitsBelowMilliseconds();
		if (digits != null) {
			throw new IllegalStateException("The table of the idempotency store " + this.store + " keeps expires_at"
					+ " to " + digits + " fractional digits of a second: the database would round or cut each"
					+ " lease's end to that, so a short lease could run out before its owner renews it, or be"
					+ " written already past, and a retry run its call a second time. Keep at least milliseconds,"
					+ " as the shipped script does:\n" + this.store.schema());
		}
	}

	private void requireTimesInOneZone() {
		List<String> columns = this.store.timeColumnsOfAnotherType();
		if (!columns.isEmpty()) {
			throw new IllegalStateException("The table of the idempotency store " + this.store + " keeps times in"
					+ " columns of a type read in each session's time zone (" + String.join(", ", columns) + "):"
					+ " instances in different time zones would disagree on when a lease runs out, and could run one"
					+ " call twice. Give them the shipped script's types:\n" + this.store.schema());
		}
	}

}
