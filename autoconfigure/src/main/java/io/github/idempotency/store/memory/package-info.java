/**
 * An in-memory idempotency store for a single node and for tests.
 */
@NullMarked
package io.github.idempotency.store.memory;

import org.jspecify.annotations.NullMarked;
