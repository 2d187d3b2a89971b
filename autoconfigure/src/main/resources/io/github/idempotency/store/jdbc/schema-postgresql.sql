-- The JDBC idempotency store's table on PostgreSQL: one row per idempotency record.
-- Every time is the database's own clock (clock_timestamp()); a row whose expires_at has passed counts as absent,
-- is taken over by the next claim of its key, and is deleted by the purge.
CREATE TABLE IF NOT EXISTS idempotency_record (
    record_key   VARCHAR(128) NOT NULL PRIMARY KEY,
    fingerprint  VARCHAR(128) NOT NULL,
    owner_token  VARCHAR(64)  NOT NULL,
    created_at   TIMESTAMPTZ  NOT NULL,
    expires_at   TIMESTAMPTZ  NOT NULL,
    completed_at TIMESTAMPTZ,
    status       INTEGER,
    headers      TEXT,
    body         BYTEA
);
CREATE INDEX IF NOT EXISTS idempotency_record_expires_at ON idempotency_record (expires_at);
