/**
 * The JDBC idempotency store: one row per record in a table of PostgreSQL or MariaDB,
 * changed by single statements timed by the database's clock.
 */
@NullMarked
package io.github.idempotency.store.jdbc;

import org.jspecify.annotations.NullMarked;
