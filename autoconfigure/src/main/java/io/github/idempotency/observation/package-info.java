/**
 * Metrics and observations of idempotent requests and of the store, through Micrometer.
 */
@NullMarked
package io.github.idempotency.observation;

import org.jspecify.annotations.NullMarked;
