package io.github.idempotency.json;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.type.TypeFactory;

import org.springframework.core.ResolvableType;

/**
 * {@link ResultCodec} on a Jackson 3 {@link ObjectMapper}, the application's for Spring
 * Boot 4.
 *
 * @since 0.1.0
 */
public final class Jackson3ResultCodec implements ResultCodec {

	private final ObjectMapper mapper;

	// Per declared type, as making a writer or reader costs more than using one.
	private final Map<ResolvableType, ObjectWriter> writers = new ConcurrentHashMap<>();

	private final Map<ResolvableType, ObjectReader> readers = new ConcurrentHashMap<>();

	/**
	 * @param mapper the application's mapper
	 */
	public Jackson3ResultCodec(ObjectMapper mapper) {
		this.mapper = mapper;
	}

	@Override
	public byte[] write(@Nullable Object value, ResolvableType type) {
		try {
			return this.writers.computeIfAbsent(type, (key) -> this.mapper.writerFor(javaType(key)))
				.writeValueAsBytes(value);
		}
		catch (JacksonException ex) {
			throw new IllegalArgumentException(ex.getMessage(), ex);
		}
	}

	@Override
	public @Nullable Object read(byte[] json, ResolvableType type) {
		try {
			return this.readers.computeIfAbsent(type, (key) -> this.mapper.readerFor(javaType(key))).readValue(json);
		}
		catch (JacksonException ex) {
			throw new IllegalArgumentException(ex.getMessage(), ex);
		}
	}

	// Built from the resolved type rather than its java.lang.reflect form, in which a
	// generic the target class binds (CompletableFuture<T> of a generic service) is still
	// a variable.
	private JavaType javaType(ResolvableType type) {
		TypeFactory types = this.mapper.getTypeFactory();
		if (type.isArray()) {
			return types.constructArrayType(javaType(type.getComponentType()));
		}
		if (!type.hasGenerics()) {
			return types.constructType(type.toClass());
		}
		JavaType[] generics = Arrays.stream(type.getGenerics()).map(this::javaType).toArray(JavaType[]::new);
		return types.constructParametricType(type.toClass(), generics);
	}

}
