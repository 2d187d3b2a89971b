package io.github.idempotency.json;

import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.type.WritableTypeId;
import tools.jackson.databind.BeanDescription;
import tools.jackson.databind.BeanProperty;
import tools.jackson.databind.DatabindException;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.SerializationConfig;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.cfg.EnumFeature;
import tools.jackson.databind.ValueSerializer;
import tools.jackson.databind.jsontype.TypeSerializer;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.ser.ValueSerializerModifier;
import tools.jackson.databind.type.CollectionType;
import tools.jackson.databind.type.TypeFactory;
import tools.jackson.databind.util.TokenBuffer;

import org.springframework.core.ResolvableType;

/**
 * {@link ResultCodec} on a Jackson 3 {@link ObjectMapper}, the application's for Spring
 * Boot 4.
 *
 * @since 0.1.0
 */
public final class Jackson3ResultCodec implements ResultCodec {

	private static final Log logger = LogFactory.getLog(Jackson3ResultCodec.class);

	private static final JsonFactory JSON = new JsonFactory();

	private final ObjectMapper mapper;

	// The application's, rebuilt to write sets and maps in order, on first use.
	private volatile @Nullable ObjectMapper fingerprintMapper;

	// Per declared type, as making a writer or reader costs more than using one.
	private final Map<ResolvableType, ObjectWriter> writers = new ConcurrentHashMap<>();

	private final Map<ResolvableType, ObjectWriter> fingerprintWriters = new ConcurrentHashMap<>();

	private final Map<ResolvableType, ObjectWriter> unorderedFingerprintWriters = new ConcurrentHashMap<>();

	private final Map<ResolvableType, ObjectReader> readers = new ConcurrentHashMap<>();

	/**
	 * @param mapper the application's mapper
	 */
	public Jackson3ResultCodec(ObjectMapper mapper) {
		this.mapper = mapper;
	}

	@Override
	public byte[] write(@Nullable Object value, ResolvableType type) {
		return write(value, type, this.mapper, this.writers, false);
	}

	// What the ordering cannot write (a serializer of the application's that it takes
	// apart), it leaves in the order the application's mapper writes it. Enum constants
	// go by name, not by toString() as Jackson 3 writes them by default, since Jackson 2
	// writes them by name: a fingerprint is the same on both Spring Boot lines.
	@Override
	public byte[] writeForFingerprint(@Nullable Object value, ResolvableType type) {
		try {
			return write(value, type, fingerprintMapper(), this.fingerprintWriters, true);
		}
		catch (IllegalArgumentException ex) {
			return write(value, type, this.mapper, this.unorderedFingerprintWriters, true);
		}
	}

	private ObjectMapper fingerprintMapper() {
		ObjectMapper fingerprints = this.fingerprintMapper;
		if (fingerprints == null) {
			fingerprints = inOrder(this.mapper);
			this.fingerprintMapper = fingerprints;
		}
		return fingerprints;
	}

	private static ObjectMapper inOrder(ObjectMapper mapper) {
		try {
			return mapper.rebuild()
				.enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
				.addModule(new SimpleModule("idempotency-fingerprint").setSerializerModifier(new OrderedSets()))
				.build();
		}
		catch (RuntimeException ex) {
			logger.warn("The application's ObjectMapper (" + mapper.getClass().getName() + ") cannot be rebuilt ("
					+ ex.getMessage() + "): fingerprints write sets in the order they iterate in, which may differ"
					+ " between instances");
			return mapper;
		}
	}

	private byte[] write(@Nullable Object value, ResolvableType type, ObjectMapper mapper,
			Map<ResolvableType, ObjectWriter> writers, boolean enumsByName) {
		try {
			return writers.computeIfAbsent(type, (key) -> {
				ObjectWriter writer = mapper.writerFor(javaType(key));
				return enumsByName ? writer.without(EnumFeature.WRITE_ENUMS_USING_TO_STRING) : writer;
			}).writeValueAsBytes(value);
		}
		// Also what the application's own types throw, which a deserializer of its own,
		// or a mapper without WRAP_EXCEPTIONS, lets through as it is.
		catch (RuntimeException ex) {
			throw new IllegalArgumentException(ex.getMessage(), ex);
		}
	}

	@Override
	public @Nullable Object read(byte[] json, ResolvableType type) {
		try {
			return this.readers.computeIfAbsent(type, (key) -> this.mapper.readerFor(javaType(key))).readValue(json);
		}
		catch (RuntimeException ex) {
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
	private static final class OrderedSets extends ValueSerializerModifier {

		@Override
		public ValueSerializer<?> modifyCollectionSerializer(SerializationConfig config, CollectionType valueType,
				BeanDescription.Supplier description, ValueSerializer<?> serializer) {
			return Set.class.isAssignableFrom(valueType.getRawClass()) ? new OrderedSet(serializer) : serializer;
		}

	}

	/**
	 * Has the set written by the serializer Jackson chose for it (with the settings of
	 * the property it is in), then writes that serializer's elements sorted by their
	 * JSON.
	 */
	@SuppressWarnings("unchecked")
	private static final class OrderedSet extends ValueSerializer<Object> {

		private final ValueSerializer<Object> written;

		OrderedSet(ValueSerializer<?> written) {
			this.written = (ValueSerializer<Object>) written;
		}

		@Override
		public ValueSerializer<?> createContextual(SerializationContext context, @Nullable BeanProperty property) {
			ValueSerializer<?> made = this.written.createContextual(context, property);
			return (made != this.written) ? new OrderedSet(made) : this;
		}

		@Override
		public void resolve(SerializationContext context) {
			this.written.resolve(context);
		}

		@Override
		public boolean isEmpty(SerializationContext context, Object value) {
			return this.written.isEmpty(context, value);
		}

		// A set of one element has no order, and may be written as that element alone
		// (WRITE_SINGLE_ELEM_ARRAYS_UNWRAPPED): it is written as Jackson writes it.
		@Override
		public void serialize(Object set, JsonGenerator generator, SerializationContext context) {
			if (((Set<?>) set).size() < 2) {
				this.written.serialize(set, generator, context);
				return;
			}
			generator.writeStartArray(set);
			writeElements(set, generator, context);
			generator.writeEndArray();
		}

		@Override
		public void serializeWithType(Object set, JsonGenerator generator, SerializationContext context,
				TypeSerializer types) {
			if (((Set<?>) set).size() < 2) {
				this.written.serializeWithType(set, generator, context, types);
				return;
			}
			WritableTypeId typeId = types.writeTypePrefix(generator, context, types.typeId(set, JsonToken.START_ARRAY));
			writeElements(set, generator, context);
			types.writeTypeSuffix(generator, context, typeId);
		}

		private void writeElements(Object set, JsonGenerator generator, SerializationContext context) {
			TokenBuffer whole = context.bufferForValueConversion();
			this.written.serialize(set, whole, context);
			List<Element> elements = new ArrayList<>();
			try (JsonParser parser = whole.asParser()) {
				if (parser.nextToken() != JsonToken.START_ARRAY) {
					throw DatabindException.from(generator, "A set written other than as an array");
				}
				while (parser.nextToken() != JsonToken.END_ARRAY) {
					TokenBuffer element = context.bufferForValueConversion();
					element.copyCurrentStructure(parser);
					elements.add(new Element(text(element), element));
				}
			}
			elements.sort(Comparator.comparing(Element::text));
			for (Element element : elements) {
				element.tokens().serialize(generator);
			}
		}

		private static String text(TokenBuffer element) {
			StringWriter text = new StringWriter();
			try (JsonGenerator generator = JSON.createGenerator(text)) {
				element.serialize(generator);
			}
			return text.toString();
		}

		private record Element(String text, TokenBuffer tokens) {
		}

	}

}
