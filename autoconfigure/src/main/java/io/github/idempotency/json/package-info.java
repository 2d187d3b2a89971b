/**
 * Canonical JSON, so that two payloads differing only in key order or whitespace are the
 * same to a fingerprint, on whichever Jackson generation the application has.
 */
@NullMarked
package io.github.idempotency.json;

import org.jspecify.annotations.NullMarked;
