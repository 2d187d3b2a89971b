package io.github.idempotency.json;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * Encodes a JSON document, read token by token, in the canonical form fingerprints hash:
 * object members sorted by name, no whitespace, integers as written (but {@code -0}),
 * decimals as {@link BigDecimal} writes them, so that amounts keep the precision they
 * were sent with. Both Jackson generations feed it the same tokens, so a fleet running
 * both agrees on every fingerprint.
 *
 * <p>
 * The encoding is only ever hashed, never parsed back, so it is not JSON: each value
 * starts with a type byte and strings carry their length, which makes it unambiguous
 * without escaping. Writing it from the parser's tokens, with no tree in between, keeps
 * fingerprinting a small part of a request's cost.
 */
final class CanonicalJson<E extends Exception> {

	private static final Comparator<Member> BY_NAME = Comparator.comparing(Member::name);

	private final Tokens<E> tokens;

	private byte[] bytes;

	private int size;

	// The objects to put in order at the current level, outside any other: at the top
	// of the document, or in the value of the member being read.
	private @Nullable List<ObjectNode> objects;

	private CanonicalJson(Tokens<E> tokens, int sizeHint) {
		this.tokens = tokens;
		this.bytes = new byte[sizeHint];
	}

	/**
	 * Encodes the one document the tokens hold.
	 * @param <E> what the parser throws for what is not JSON
	 * @param tokens the document's tokens
	 * @param sizeHint how many bytes the document has: the encoding is about as long
	 * @return the canonical bytes
	 * @throws E if the parser finds that the bytes are not JSON
	 * @throws IllegalArgumentException if the document has a duplicate member name, or
	 * anything after its end
	 */
	static <E extends Exception> byte[] encode(Tokens<E> tokens, int sizeHint) throws E {
		CanonicalJson<E> json = new CanonicalJson<>(tokens, Math.max(16, sizeHint));
		json.value(json.next());
		if (tokens.next() != null) {
			throw new IllegalArgumentException("Not one JSON document: content follows its end");
		}
		return (json.objects != null) ? json.reorder() : Arrays.copyOf(json.bytes, json.size);
	}

	private Token next() throws E {
		Token token = this.tokens.next();
		if (token == null) {
			throw new IllegalArgumentException("JSON document ends early");
		}
		return token;
	}

	private void value(Token token) throws E {
		switch (token) {
			case OBJECT_START -> object();
			case ARRAY_START -> array();
			case STRING -> string(this.tokens.text());
			// JSON integers have no leading zeros, so "-0" is the one integer with a
			// second spelling.
			case INTEGER -> number("-0".equals(this.tokens.text()) ? "0" : this.tokens.text());
			case DECIMAL -> number(this.tokens.decimal().toString());
			case TRUE -> write('t');
			case FALSE -> write('f');
			case NULL -> write('n');
			default -> throw new IllegalArgumentException("Unexpected " + token + " in JSON document");
		}
	}

	private void array() throws E {
		write('[');
		for (Token token = next(); token != Token.ARRAY_END; token = next()) {
			value(token);
		}
		write(']');
	}

	// Members are written as they come, an object whose members came out of order (or
	// that holds such an object) noting where its members lie and in which order they
	// belong. Such objects are put in order once, when the whole document has been read,
	// so that each byte is copied at most once however deeply they nest; a document in
	// order is copied as it was written.
	private void object() throws E {
		int start = this.size;
		write('{');
		List<Member> members = new ArrayList<>();
		List<ObjectNode> enclosing = this.objects;
		for (Token token = next(); token != Token.OBJECT_END; token = next()) {
			String name = this.tokens.text();
			int memberStart = this.size;
			this.objects = null;
			string(name);
			value(next());
			members.add(new Member(name, memberStart, this.size, this.objects));
		}
		write('}');
		this.objects = enclosing;
		List<Member> sorted = reordered(members);
		if (sorted != null) {
			if (this.objects == null) {
				this.objects = new ArrayList<>(2);
			}
			this.objects.add(new ObjectNode(start, this.size, sorted));
		}
	}

	/**
	 * The members in order, or {@code null} when they came in order and hold no object
	 * that did not.
	 */
	private static @Nullable List<Member> reordered(List<Member> members) {
		List<Member> sorted = members;
		if (members.size() > 1) {
			sorted = new ArrayList<>(members);
			sorted.sort(BY_NAME);
			for (int i = 1; i < sorted.size(); i++) {
				if (sorted.get(i).name().equals(sorted.get(i - 1).name())) {
					throw new IllegalArgumentException("JSON object has the member " + sorted.get(i).name() + " twice");
				}
			}
		}
		for (int i = 0; i < sorted.size(); i++) {
			if (sorted.get(i) != members.get(i) || sorted.get(i).objects() != null) {
				return sorted;
			}
		}
		return null;
	}

	private byte[] reorder() {
		byte[] out = new byte[this.size];
		copy(out, 0, 0, this.size, this.objects);
		return out;
	}

	// Copies the bytes from start to end, the objects among them in order.
	private int copy(byte[] out, int at, int start, int end, @Nullable List<ObjectNode> objects) {
		int from = start;
		if (objects != null) {
			for (ObjectNode object : objects) {
				System.arraycopy(this.bytes, from, out, at, object.start() - from);
				at += object.start() - from;
				at = copy(out, at, object);
				from = object.end();
			}
		}
		System.arraycopy(this.bytes, from, out, at, end - from);
		return at + end - from;
	}

	private int copy(byte[] out, int at, ObjectNode object) {
		out[at++] = '{';
		for (Member member : object.members()) {
			at = copy(out, at, member.start(), member.end(), member.objects());
		}
		out[at++] = '}';
		return at;
	}

	private void string(String text) {
		write('"');
		lengthPrefixed(hasSurrogate(text) ? generalizedUtf8(text) : text.getBytes(StandardCharsets.UTF_8));
	}

	private static boolean hasSurrogate(String text) {
		for (int i = 0; i < text.length(); i++) {
			if (Character.isSurrogate(text.charAt(i))) {
				return true;
			}
		}
		return false;
	}

	// A JSON string may hold a surrogate without its pair ("\ud800"), which
	// String.getBytes would replace with '?', so that two different strings got one
	// encoding. Here a lone surrogate is written as the three bytes UTF-8's pattern gives
	// its code unit (as WTF-8 does), which no well-formed string encodes to; pairs and
	// every other character are written as UTF-8 writes them, so the encoding of a
	// well-formed string is unchanged.
	private static byte[] generalizedUtf8(String text) {
		byte[] out = new byte[text.length() * 3];
		int size = 0;
		for (int i = 0; i < text.length(); i++) {
			char c = text.charAt(i);
			int codePoint = c;
			if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
				codePoint = Character.toCodePoint(c, text.charAt(++i));
			}
			if (codePoint < 0x80) {
				out[size++] = (byte) codePoint;
			}
			else if (codePoint < 0x800) {
				out[size++] = (byte) (0xC0 | (codePoint >>> 6));
				out[size++] = (byte) (0x80 | (codePoint & 0x3F));
			}
			else if (codePoint < 0x10000) {
				out[size++] = (byte) (0xE0 | (codePoint >>> 12));
				out[size++] = (byte) (0x80 | ((codePoint >>> 6) & 0x3F));
				out[size++] = (byte) (0x80 | (codePoint & 0x3F));
			}
			else {
				out[size++] = (byte) (0xF0 | (codePoint >>> 18));
				out[size++] = (byte) (0x80 | ((codePoint >>> 12) & 0x3F));
				out[size++] = (byte) (0x80 | ((codePoint >>> 6) & 0x3F));
				out[size++] = (byte) (0x80 | (codePoint & 0x3F));
			}
		}
		return Arrays.copyOf(out, size);
	}

	private void number(String text) {
		write('#');
		lengthPrefixed(text.getBytes(StandardCharsets.US_ASCII));
	}

	private void lengthPrefixed(byte[] value) {
		int length = value.length;
		ensure(4 + length);
		this.bytes[this.size++] = (byte) (length >>> 24);
		this.bytes[this.size++] = (byte) (length >>> 16);
		this.bytes[this.size++] = (byte) (length >>> 8);
		this.bytes[this.size++] = (byte) length;
		System.arraycopy(value, 0, this.bytes, this.size, length);
		this.size += length;
	}

	private void write(char type) {
		ensure(1);
		this.bytes[this.size++] = (byte) type;
	}

	private void ensure(int more) {
		if (this.size + more > this.bytes.length) {
			this.bytes = Arrays.copyOf(this.bytes, Math.max(this.bytes.length * 2, this.size + more));
		}
	}

	/**
	 * The kinds of token a JSON parser reports.
	 */
	enum Token {

		OBJECT_START, OBJECT_END, ARRAY_START, ARRAY_END, NAME, STRING, INTEGER, DECIMAL, TRUE, FALSE, NULL

	}

	/**
	 * One JSON document's tokens, as a Jackson parser of either generation reads them.
	 *
	 * @param <E> what the parser throws for what is not JSON
	 */
	interface Tokens<E extends Exception> {

		/**
		 * Moves to the next token.
		 * @return the token, or {@code null} after the end of the input
		 */
		@Nullable Token next() throws E;

		/**
		 * The current member name, string, or integer, as text.
		 */
		String text() throws E;

		/**
		 * The current decimal number, exactly.
		 */
		BigDecimal decimal() throws E;

	}

	/**
	 * A member as written: from its name to the end of its value, with the objects to put
	 * in order that its value holds outside any other, in the order they were written.
	 */
	private record Member(String name, int start, int end, @Nullable List<ObjectNode> objects) {
	}

	/**
	 * An object as written whose members, or those of an object within them, came out of
	 * order; with its members in order.
	 */
	private record ObjectNode(int start, int end, List<Member> members) {
	}

}
