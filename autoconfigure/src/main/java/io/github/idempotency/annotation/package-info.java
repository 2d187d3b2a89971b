/**
 * The {@code @Idempotent} annotation and the parser that turns it into an operation.
 */
@NullMarked
package io.github.idempotency.annotation;

import org.jspecify.annotations.NullMarked;
