/**
 * The method interceptor around idempotent handler methods, and the coordinator that
 * claims, decides and completes.
 */
@NullMarked
package io.github.idempotency.interceptor;

import org.jspecify.annotations.NullMarked;
