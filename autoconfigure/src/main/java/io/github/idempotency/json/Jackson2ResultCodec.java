package io.github.idempotency.json;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationConfig;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.BeanSerializerModifier;
import com.fasterxml.jackson.databind.type.CollectionType;
import com.fasterxml.jackson.databind.type.TypeFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.core.ResolvableType;

/**
 * {@link ResultCodec} on a Jackson 2 {@link ObjectMapper}, the application's for Spring
 * Boot 3.
 *
 * @since 0.1.0
 */
public final class Jackson2ResultCodec implements ResultCodec {

	private final ObjectMapper mapper;

	// The application's, writing sets in order; the application's itself where it cannot
	// be copied (a subclass that does not say how).
	private final ObjectMapper fingerprintMapper;

	// Per declared type, as making a writer or reader costs more than using one.
	private final Map<ResolvableType, ObjectWriter> writers = new ConcurrentHashMap<>();

	private final Map<ResolvableType, ObjectWriter> fingerprintWriters = new ConcurrentHashMap<>();

	private final Map<ResolvableType, ObjectReader> readers = new ConcurrentHashMap<>();

	/**
	 * @param mapper the application's mapper
	 */
	public Jackson2ResultCodec(ObjectMapper mapper) {
		this.mapper = mapper;
		this.fingerprintMapper = writingSetsInOrder(mapper);
	}

	private static ObjectMapper writingSetsInOrder(ObjectMapper mapper) {
		ObjectMapper copy;
		try {
			copy = mapper.copy();
		}
		catch (IllegalStateException ex) {
			return mapper;
		}
		copy.registerModule(new SimpleModule("idempotency-fingerprint").setSerializerModifier(new OrderedSets(copy)));
		return copy;
	}

	@Override
	public byte[] write(@Nullable Object value, ResolvableType type) {
		return write(value, type, this.mapper, this.writers);
	}

	@Override
	public byte[] writeForFingerprint(@Nullable Object value, ResolvableType type) {
		return write(value, type, this.fingerprintMapper, this.fingerprintWriters);
	}

	private byte[] write(@Nullable Object value, ResolvableType type, ObjectMapper mapper,
			Map<ResolvableType, ObjectWriter> writers) {
		try {
			return writers.computeIfAbsent(type, (key) -> mapper.writerFor(javaType(key))).writeValueAsBytes(value);
		}
		catch (IOException ex) {
			throw new IllegalArgumentException(ex.getMessage(), ex);
		}
	}

	@Override
	public @Nullable Object read(byte[] json, ResolvableType type) {
		try {
			return this.readers.computeIfAbsent(type, (key) -> this.mapper.readerFor(javaType(key))).readValue(json);
		}
		catch (IOException ex) {
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

	/**
	 * Writes every set with its elements in the order of their JSON.
	 */
	private static final class OrderedSets extends BeanSerializerModifier {

		private final ObjectMapper mapper;

		OrderedSets(ObjectMapper mapper) {
			this.mapper = mapper;
		}

		@Override
		public JsonSerializer<?> modifyCollectionSerializer(SerializationConfig config, CollectionType valueType,
				BeanDescription description, JsonSerializer<?> serializer) {
			return Set.class.isAssignableFrom(valueType.getRawClass()) ? new OrderedSet(this.mapper) : serializer;
		}

	}

	private static final class OrderedSet extends JsonSerializer<Set<?>> {

		private final ObjectMapper mapper;

		OrderedSet(ObjectMapper mapper) {
			this.mapper = mapper;
		}

		@Override
		public void serialize(Set<?> set, JsonGenerator generator, SerializerProvider provider) throws IOException {
			List<String> elements = new ArrayList<>(set.size());
			for (Object element : set) {
				elements.add(this.mapper.writeValueAsString(element));
			}
			Collections.sort(elements);
			generator.writeStartArray(set, elements.size());
			for (String element : elements) {
				generator.writeRawValue(element);
			}
			generator.writeEndArray();
		}

	}

}
