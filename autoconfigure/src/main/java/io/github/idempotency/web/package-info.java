/**
 * Servlet-side support: request buffering, response capture, key parsing, fingerprints
 * and problem responses.
 */
@NullMarked
package io.github.idempotency.web;

import org.jspecify.annotations.NullMarked;
