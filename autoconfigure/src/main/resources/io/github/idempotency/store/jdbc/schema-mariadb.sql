-- The JDBC idempotency store's table on MariaDB (and MySQL 8): one row per idempotency record.
-- Times are UTC, from the database's own clock (UTC_TIMESTAMP(6)); a row whose expires_at has passed counts as absent,
-- is taken over by the next claim of its key, and is deleted by the purge. Binary collation: keys and tokens compare
-- byte for byte, as in every other store.
CREATE TABLE IF NOT EXISTS idempotency_record (
    record_key   VARCHAR(128) NOT NULL PRIMARY KEY,
    fingerprint  VARCHAR(128) NOT NULL,
    owner_token  VARCHAR(64)  NOT NULL,
    created_at   DATETIME(6)  NOT NULL,
    expires_at   DATETIME(6)  NOT NULL,
    completed_at DATETIME(6),
    status       INTEGER,
    headers      MEDIUMTEXT,
    body         LONGBLOB,
    INDEX idempotency_record_expires_at (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
