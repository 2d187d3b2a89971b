/**
 * The Actuator endpoint that reads and deletes single idempotency records.
 */
@NullMarked
package io.github.idempotency.actuate;

import org.jspecify.annotations.NullMarked;
