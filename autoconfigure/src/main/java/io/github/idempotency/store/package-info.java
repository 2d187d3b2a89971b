/**
 * What the idempotency stores share; each store lives in a package of its own.
 */
@NullMarked
package io.github.idempotency.store;

import org.jspecify.annotations.NullMarked;
