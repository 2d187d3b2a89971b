/**
 * OpenAPI documentation of idempotent operations, through springdoc-openapi.
 */
@NullMarked
package io.github.idempotency.openapi;

import org.jspecify.annotations.NullMarked;
