/**
 * The servlet path: request buffering, response capture, request fingerprints, scopes and
 * problem responses, adapted to the lifecycle in
 * {@link io.github.idempotency.interceptor}.
 */
@NullMarked
package io.github.idempotency.web;

import org.jspecify.annotations.NullMarked;
