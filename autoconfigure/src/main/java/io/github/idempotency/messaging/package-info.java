/**
 * What the outcomes of an idempotent listener method mean to each message broker: a
 * duplicate still in progress is delivered again later, never acknowledged as done; a key
 * reused with another message is dead-lettered.
 */
@NullMarked
package io.github.idempotency.messaging;

import org.jspecify.annotations.NullMarked;
