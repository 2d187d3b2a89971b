package io.github.idempotency.json;

import org.jspecify.annotations.Nullable;

import org.springframework.core.ResolvableType;

/**
 * Writes what an idempotent method returned as JSON, and reads it back as the method's
 * declared return type for a replay; also writes a method's arguments for its
 * fingerprint. Backed by the application's own JSON mapper, so that values are written as
 * everywhere else in the application.
 *
 * @since 0.1.0
 */
public interface ResultCodec {

	/**
	 * Writes a value as JSON.
	 * @param value the value, possibly {@code null}
	 * @param type the type it is declared as, generics included
	 * @return the JSON bytes
	 * @throws IllegalArgumentException if the value cannot be written
	 */
	byte[] write(@Nullable Object value, ResolvableType type);

	/**
	 * Writes a value as JSON for a fingerprint: as {@link #write} does, but with the
	 * elements of every {@link java.util.Set} in the order of their JSON, so that two
	 * equal sets give the same JSON whatever order they iterate in (a {@code HashSet} of
	 * enum constants, or {@code Set.of(...)}, iterates in another order in each JVM).
	 * @param value the value, possibly {@code null}
	 * @param type the type it is declared as, generics included
	 * @return the JSON bytes
	 * @throws IllegalArgumentException if the value cannot be written
	 */
	default byte[] writeForFingerprint(@Nullable Object value, ResolvableType type) {
		return write(value, type);
	}

	/**
	 * Reads a value written by {@link #write}.
	 * @param json the JSON bytes
	 * @param type the type to read, generics included
	 * @return the value, possibly {@code null}
	 * @throws IllegalArgumentException if the bytes cannot be read as that type
	 */
	@Nullable Object read(byte[] json, ResolvableType type);

}
