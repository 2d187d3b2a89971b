package io.github.idempotency.json;

import java.io.IOException;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.type.WritableTypeId;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.BeanProperty;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationConfig;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.BeanSerializerModifier;
import com.fasterxml.jackson.databind.ser.ContextualSerializer;
import com.fasterxml.jackson.databind.ser.ResolvableSerializer;
import com.fasterxml.jackson.databind.type.CollectionType;
import com.fasterxml.jackson.databind.type.TypeFactory;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.core.ResolvableType;

/**
 * {@link ResultCodec} on a Jackson 2 {@link ObjectMapper}, the application's for Spring
 * Boot 3.
 *
 * @since 0.1.0
 */
public final class Jackson2ResultCodec implements ResultCodec {

	private static final Log logger = LogFactory.getLog(Jackson2ResultCodec.class);

	private static final JsonFactory JSON = new JsonFactory();

	private final ObjectMapper mapper;

	// A copy of the application's that writes sets and maps in order, made on first use
	// so that it has what the application configured after this codec was made.
	private volatile @Nullable ObjectMapper fingerprintMapper;

	// Per declared type, as making a writer or reader costs more than using one.
	private final Map<ResolvableType, ObjectWriter> writers = new ConcurrentHashMap<>();

	private final Map<ResolvableType, ObjectWriter> fingerprintWriters = new ConcurrentHashMap<>();

	private final Map<ResolvableType, ObjectWriter> unorderedFingerprintWriters = new ConcurrentHashMap<>();

	private final Map<ResolvableType, ObjectReader> readers = new ConcurrentHashMap<>();

	/**
	 * @param mapper the application's mapper
	 */
	public Jackson2ResultCodec(ObjectMapper mapper) {
		this.mapper = mapper;
	}

	@Override
	public byte[] write(@Nullable Object value, ResolvableType type) {
		return write(value, type, this.mapper, this.writers, false);
	}

	// What the ordering cannot write (a serializer of the application's that it takes
	// apart), it leaves in the order the application's mapper writes it. Enum constants
	// go by name, as Jackson 3 would write them by toString() where this writes them by
	// name: a fingerprint is the same on both Spring Boot lines.
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
			ObjectMapper copy = mapper.copy();
			copy.enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
			copy.registerModule(new SimpleModule("idempotency-fingerprint").setSerializerModifier(new OrderedSets()));
			return copy;
		}
		catch (RuntimeException ex) {
			logger.warn("The application's ObjectMapper (" + mapper.getClass().getName() + ") cannot be copied ("
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
				return enumsByName ? writer.without(SerializationFeature.WRITE_ENUMS_USING_TO_STRING) : writer;
			}).writeValueAsBytes(value);
		}
		// Also what the application's own types throw, which a deserializer of its own,
		// or a mapper without WRAP_EXCEPTIONS, lets through as it is.
		catch (IOException | RuntimeException ex) {
			throw new IllegalArgumentException(ex.getMessage(), ex);
		}
	}

	@Override
	public @Nullable Object read(byte[] json, ResolvableType type) {
		try {
			return this.readers.computeIfAbsent(type, (key) -> this.mapper.readerFor(javaType(key))).readValue(json);
		}
		catch (IOException | RuntimeException ex) {
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

		@Override
		public JsonSerializer<?> modifyCollectionSerializer(SerializationConfig config, CollectionType valueType,
				BeanDescription description, JsonSerializer<?> serializer) {
			return Set.class.isAssignableFrom(valueType.getRawClass()) ? new OrderedSet(serializer) : serializer;
		}

	}

	/**
	 * Has the set written by the serializer Jackson chose for it (with the settings of
	 * the property it is in), then writes that serializer's elements sorted by their
	 * JSON.
	 */
	@SuppressWarnings("unchecked")
	private static final class OrderedSet extends JsonSerializer<Object>
			implements ContextualSerializer, ResolvableSerializer {

		private final JsonSerializer<Object> written;

		OrderedSet(JsonSerializer<?> written) {
			this.written = (JsonSerializer<Object>) written;
		}

		@Override
		public JsonSerializer<?> createContextual(SerializerProvider provider, @Nullable BeanProperty property)
				throws JsonMappingException {
			if (this.written instanceof ContextualSerializer contextual) {
				JsonSerializer<?> made = contextual.createContextual(provider, property);
				return (made != this.written) ? new OrderedSet(made) : this;
			}
			return this;
		}

		@Override
		public void resolve(SerializerProvider provider) throws JsonMappingException {
			if (this.written instanceof ResolvableSerializer resolvable) {
				resolvable.resolve(provider);
			}
		}

		@Override
		public boolean isEmpty(SerializerProvider provider, Object value) {
			return this.written.isEmpty(provider, value);
		}

		// A set of one element has no order, and may be written as that element alone
		// (WRITE_SINGLE_ELEM_ARRAYS_UNWRAPPED): it is written as Jackson writes it.
		@Override
		public void serialize(Object set, JsonGenerator generator, SerializerProvider provider) throws IOException {
			if (((Set<?>) set).size() < 2) {
				this.written.serialize(set, generator, provider);
				return;
			}
			generator.writeStartArray(set);
			writeElements(set, generator, provider);
			generator.writeEndArray();
		}

		@Override
		public void serializeWithType(Object set, JsonGenerator generator, SerializerProvider provider,
				TypeSerializer types) throws IOException {
			if (((Set<?>) set).size() < 2) {
				this.written.serializeWithType(set, generator, provider, types);
				return;
			}
			WritableTypeId typeId = types.writeTypePrefix(generator, types.typeId(set, JsonToken.START_ARRAY));
			writeElements(set, generator, provider);
			types.writeTypeSuffix(generator, typeId);
		}

		private void writeElements(Object set, JsonGenerator generator, SerializerProvider provider)
				throws IOException {
			TokenBuffer whole = new TokenBuffer(generator.getCodec(), false);
			this.written.serialize(set, whole, provider);
			List<Element> elements = new ArrayList<>();
			try (JsonParser parser = whole.asParser()) {
				if (parser.nextToken() != JsonToken.START_ARRAY) {
					throw JsonMappingException.from(provider, "A set written other than as an array");
				}
				while (parser.nextToken() != JsonToken.END_ARRAY) {
					TokenBuffer element = new TokenBuffer(parser);
					element.copyCurrentStructure(parser);
					elements.add(new Element(text(element), element));
				}
			}
			elements.sort(Comparator.comparing(Element::text));
			for (Element element : elements) {
				element.tokens().serialize(generator);
			}
		}

		private static String text(TokenBuffer element) throws IOException {
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
