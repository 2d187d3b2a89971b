/**
 * The Redis idempotency store: one hash per record, changed only by single-key Lua
 * scripts.
 */
@NullMarked
package io.github.idempotency.store.redis;

import org.jspecify.annotations.NullMarked;
