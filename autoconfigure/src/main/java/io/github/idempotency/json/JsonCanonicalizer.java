package io.github.idempotency.json;

/**
 * Rewrites a JSON document in a canonical form, so that two documents differing only in
 * object key order or insignificant whitespace have the same bytes. The one place where a
 * JSON library is used, so that it can follow the application's Jackson generation.
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface JsonCanonicalizer {

	/**
	 * Canonicalizes a JSON document.
	 * @param json the document's bytes
	 * @return the canonical bytes
	 * @throws IllegalArgumentException if the bytes are not one well-formed JSON document
	 */
	byte[] canonicalize(byte[] json);

}
