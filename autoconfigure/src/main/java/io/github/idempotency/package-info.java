/**
 * The idempotency store SPI and the values that cross it.
 */
@NullMarked
package io.github.idempotency;

import org.jspecify.annotations.NullMarked;
