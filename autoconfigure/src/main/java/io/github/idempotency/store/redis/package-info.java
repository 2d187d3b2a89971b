/**
 * The Redis idempotency store: one string per record, changed only by single-key commands
 * and Lua scripts.
 */
@NullMarked
package io.github.idempotency.store.redis;

import org.jspecify.annotations.NullMarked;
