/**
 * Auto-configuration and configuration properties.
 */
@NullMarked
package io.github.idempotency.autoconfigure;

import org.jspecify.annotations.NullMarked;
