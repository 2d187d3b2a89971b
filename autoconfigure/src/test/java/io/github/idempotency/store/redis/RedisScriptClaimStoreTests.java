package io.github.idempotency.store.redis;

/**
 * The store contract with every claim made by the claim script, as on Redis before 7.0,
 * whatever the test Redis is.
 */
class RedisScriptClaimStoreTests extends RedisIdempotencyStoreTests {

	@Override
	protected boolean claimsNatively() {
		return false;
	}

}
