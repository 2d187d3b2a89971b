package io.github.idempotency.contract;

import io.github.idempotency.IdempotencyStore;
import io.github.idempotency.store.memory.InMemoryIdempotencyStore;

/**
 * The contract as a store's author uses it, from this module alone: extended, with the
 * store supplied.
 */
class InMemoryStoreContractTests extends AbstractIdempotencyStoreTests {

	private final InMemoryIdempotencyStore store = new InMemoryIdempotencyStore();

	@Override
	protected IdempotencyStore store() {
		return this.store;
	}

}
