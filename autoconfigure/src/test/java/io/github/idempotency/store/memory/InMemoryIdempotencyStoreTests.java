package io.github.idempotency.store.memory;

import io.github.idempotency.contract.AbstractIdempotencyStoreTests;
import io.github.idempotency.IdempotencyStore;

class InMemoryIdempotencyStoreTests extends AbstractIdempotencyStoreTests {

	private final InMemoryIdempotencyStore store = new InMemoryIdempotencyStore();

	@Override
	protected IdempotencyStore store() {
		return this.store;
	}

}
