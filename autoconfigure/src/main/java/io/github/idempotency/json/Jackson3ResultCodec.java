package io.github.idempotency.json;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.BeanDescription;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.SerializationConfig;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.ValueSerializer;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.ser.ValueSerializerModifier;
import tools.jackson.databind.type.CollectionType;
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

	// The application's, rebuilt to write sets in order.
	private final ObjectMapper fingerprintMapper;

	// Per declared type, as making a writer or reader costs more than using one.
	private final Map<ResolvableType, ObjectWriter> writers = new ConcurrentHashMap<>();

	private final Map<ResolvableType, ObjectWriter> fingerprintWriters = new ConcurrentHashMap<>();

	private final Map<ResolvableType, ObjectReader> readers = new ConcurrentHashMap<>();

	/**
	 * @param mapper the application's mapper
	 */
	public Jackson3ResultCodec(ObjectMapper mapper) {
		this.mapper = mapper;
		OrderedSets orderedSets = new OrderedSets();
		this.fingerprintMapper = mapper.rebuild()
			.addModule(new SimpleModule("idempotency-fingerprint").setSerializerModifier(orderedSets))
			.build();
		orderedSets.mapper = this.fingerprintMapper;
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

	/**
	 * Writes every set with its elements in the order of their JSON, through the mapper
	 * it is part of, set once that is built.
	 */
	private static final class OrderedSets extends ValueSerializerModifier {

		private volatile @Nullable ObjectMapper mapper;

		@Override
		public ValueSerializer<?> modifyCollectionSerializer(SerializationConfig config, CollectionType valueType,
				BeanDescription.Supplier description, ValueSerializer<?> serializer) {
			ObjectMapper mapper = this.mapper;
			return (mapper != null && Set.class.isAssignableFrom(valueType.getRawClass())) ? new OrderedSet(mapper)
					: serializer;
		}

	}

	private static final class OrderedSet extends ValueSerializer<Set<?>> {

		private final ObjectMapper mapper;

		OrderedSet(ObjectMapper mapper) {
			this.mapper = mapper;
		}

		@Override
		public void serialize(Set<?> set, JsonGenerator generator, SerializationContext context) {
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
