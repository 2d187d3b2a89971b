package io.github.idempotency.store.jdbc;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Locale;

import org.jspecify.annotations.Nullable;

/**
 * The SQL the {@link JdbcIdempotencyStore} speaks to each database it supports. Every
 * statement reads the time from the database's clock, never the application's, and takes
 * durations in milliseconds; {@code TABLE} stands for the table's name.
 *
 * @since 0.1.0
 */
public enum JdbcDialect {

	/**
	 * PostgreSQL. A claim is {@code INSERT ... ON CONFLICT DO UPDATE ... WHERE} the
	 * existing row has expired, so that one statement either inserts, takes an expired
	 * row over, or changes nothing; it counts one row exactly when the key is now the
	 * caller's. {@code clock_timestamp()} rather than {@code now()}, which is the start
	 * of the transaction, since a completion may join a long one.
	 */
	POSTGRESQL("clock_timestamp()", "timestamptz", "CAST(? AS BIGINT) * INTERVAL '1 millisecond'",
			"INSERT INTO TABLE AS r (record_key, fingerprint, owner_token, created_at, expires_at)"
					+ " VALUES (?, ?, ?, NOW_, NOW_ + INTERVAL_)"
					+ " ON CONFLICT (record_key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,"
					+ " owner_token = EXCLUDED.owner_token, created_at = EXCLUDED.created_at,"
					+ " expires_at = EXCLUDED.expires_at, completed_at = NULL, status = NULL, headers = NULL,"
					+ " body = NULL WHERE r.expires_at <= NOW_",
			1, "CAST(EXTRACT(EPOCH FROM (expires_at - NOW_)) * 1000 AS BIGINT)",
			// SKIP LOCKED: several instances purge side by side without waiting on each
			// other, and never on a row a claim is taking over. now(), the start of the
			// purge's own short transaction: the index on expires_at cannot be searched
			// for clock_timestamp(), which changes while the statement runs.
			"DELETE FROM TABLE WHERE expires_at <= now() AND record_key IN (SELECT record_key FROM TABLE"
					+ " WHERE expires_at <= now() LIMIT ? FOR UPDATE SKIP LOCKED)") {

		@Override
		@Nullable Instant instant(ResultSet row, int column) throws SQLException {
			OffsetDateTime time = row.getObject(column, OffsetDateTime.class);
			return (time != null) ? time.toInstant() : null;
		}

	},

	/**
	 * MariaDB, and MySQL 8, which speaks the same SQL. A claim is
	 * {@code INSERT ... ON DUPLICATE KEY UPDATE} whose every assignment keeps the
	 * existing value unless that row has expired; {@code expires_at} is assigned last,
	 * since later assignments see the earlier ones. It counts two rows exactly when it
	 * took an expired row over; one row is either an insert or, when the driver reports
	 * found rather than changed rows, a row left alone, so the store then reads the row
	 * to tell. Times are UTC ({@code UTC_TIMESTAMP(6)}), whatever the session's time
	 * zone.
	 */
	MARIADB("UTC_TIMESTAMP(6)", "DATETIME", "INTERVAL (? * 1000) MICROSECOND",
			"INSERT INTO TABLE (record_key, fingerprint, owner_token, created_at, expires_at)"
					+ " VALUES (?, ?, ?, NOW_, NOW_ + INTERVAL_) ON DUPLICATE KEY UPDATE"
					+ " fingerprint = IF(expires_at <= NOW_, VALUES(fingerprint), fingerprint),"
					+ " owner_token = IF(expires_at <= NOW_, VALUES(owner_token), owner_token),"
					+ " created_at = IF(expires_at <= NOW_, VALUES(created_at), created_at),"
					+ " completed_at = IF(expires_at <= NOW_, NULL, completed_at),"
					+ " status = IF(expires_at <= NOW_, NULL, status),"
					+ " headers = IF(expires_at <= NOW_, NULL, headers),"
					+ " body = IF(expires_at <= NOW_, NULL, body),"
					+ " expires_at = IF(expires_at <= NOW_, VALUES(expires_at), expires_at)",
			2, "TIMESTAMPDIFF(MICROSECOND, NOW_, expires_at) DIV 1000",
			"DELETE FROM TABLE WHERE expires_at <= NOW_ LIMIT ?") {

		@Override
		@Nullable Instant instant(ResultSet row, int column) throws SQLException {
			LocalDateTime time = row.getObject(column, LocalDateTime.class);
			return (time != null) ? time.toInstant(ZoneOffset.UTC) : null;
		}

	};

	private final String now;

	private final String timeType;

	private final String interval;

	private final String claim;

	private final int claimedCount;

	private final String remainingMillis;

	private final String purge;

	JdbcDialect(String now, String timeType, String interval, String claim, int claimedCount, String remainingMillis,
			String purge) {
		this.now = now;
		this.timeType = timeType;
		this.interval = interval;
		this.claim = claim;
		this.claimedCount = claimedCount;
		this.remainingMillis = remainingMillis;
		this.purge = purge;
	}

	/**
	 * The dialect of a database, by the product name its driver reports.
	 * @param productName as {@link java.sql.DatabaseMetaData#getDatabaseProductName()}
	 * returns it
	 * @return the dialect
	 * @throws IllegalStateException if the database is not one the store supports
	 */
	public static JdbcDialect of(String productName) {
		String name = productName.toLowerCase(Locale.ROOT);
		if (name.contains("postgresql")) {
			return POSTGRESQL;
		}
		if (name.contains("mariadb") || name.contains("mysql")) {
			return MARIADB;
		}
		throw new IllegalStateException("The JDBC idempotency store supports PostgreSQL and MariaDB (or MySQL), not "
				+ productName + ". Keep idempotency records in Redis, or in memory for a single node or a test on an"
				+ " embedded database (idempotency.store=memory), or implement IdempotencyStore for it.");
	}

	/**
	 * The script that creates the table, shipped beside this class.
	 * @return the resource name, relative to this class
	 */
	public String schemaScript() {
		return "schema-" + name().toLowerCase(Locale.ROOT) + ".sql";
	}

	/**
	 * The type of the columns of times, as the driver names it.
	 */
	String timeType() {
		return this.timeType;
	}

	@Nullable abstract Instant instant(ResultSet row, int column) throws SQLException;

	String claim(String table) {
		return sql(this.claim, table);
	}

	/**
	 * Whether a claim's update count proves that the row now belongs to the caller.
	 */
	boolean claimed(int updateCount) {
		return updateCount == this.claimedCount;
	}

	String purge(String table) {
		return sql(this.purge, table);
	}

	/**
	 * Fills in the table, the database's clock ({@code NOW_}), a duration parameter added
	 * to it ({@code INTERVAL_}) and the milliseconds a row has left ({@code REMAINING_}).
	 */
	String sql(String template, String table) {
		return template.replace("REMAINING_", this.remainingMillis)
			.replace("INTERVAL_", this.interval)
			.replace("NOW_", this.now)
			.replace("TABLE", table);
	}

}
