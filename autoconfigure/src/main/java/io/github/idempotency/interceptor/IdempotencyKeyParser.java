package io.github.idempotency.interceptor;

/**
 * Reads an idempotency key from a header value.
 *
 * <p>
 * Accepts the form of the IETF draft, a structured-field string ({@code "8e03978e-40d5"},
 * with {@code \"} and {@code \\} escapes and any parameters after it ignored), and the
 * bare form payment APIs use ({@code 8e03978e-40d5}: visible ASCII, no spaces, no
 * commas). Both spellings of the same characters are the same key. Stateless.
 *
 * @since 0.1.0
 */
public final class IdempotencyKeyParser {

	private final int maxLength;

	/**
	 * @param maxLength the longest key accepted, counted in characters after unquoting
	 */
	public IdempotencyKeyParser(int maxLength) {
		this.maxLength = maxLength;
	}

	/**
	 * Returns the key a header value carries.
	 * @param value the header value
	 * @return the key
	 * @throws InvalidKeyException if the value is not a usable key, with a message a
	 * client can act on
	 */
	public String parse(String value) {
		String key = (value.startsWith("\"")) ? unquote(value) : bare(value);
		return check(key);
	}

	/**
	 * Checks a key computed by other means (an expression over the body) against the same
	 * rules.
	 * @param key the key
	 * @return the key
	 * @throws InvalidKeyException if the key is not usable
	 */
	public String check(String key) {
		// Spaces alone are a key nobody chose: every such call would share one record.
		if (key.isBlank()) {
			throw new InvalidKeyException("The idempotency key is empty" + (key.isEmpty() ? "." : " but for spaces."));
		}
		if (key.length() > this.maxLength) {
			throw new InvalidKeyException("The idempotency key is " + key.length()
					+ " characters long; the longest accepted is " + this.maxLength + ".");
		}
		for (int i = 0; i < key.length(); i++) {
			char c = key.charAt(i);
			if (c < 0x20 || c == 0x7f) {
				throw new InvalidKeyException("The idempotency key contains a control character.");
			}
			// Text without a character there: UTF-8 would write it as '?', so that two
			// keys shared one record.
			if (Character.isSurrogate(c)) {
				if (!Character.isHighSurrogate(c) || i + 1 == key.length()
						|| !Character.isLowSurrogate(key.charAt(i + 1))) {
					throw new InvalidKeyException("The idempotency key contains a surrogate without its pair.");
				}
				i++;
			}
		}
		return key;
	}

	private static String bare(String value) {
		for (int i = 0; i < value.length(); i++) {
			char c = value.charAt(i);
			if (c <= 0x20 || c >= 0x7f || c == ',') {
				throw new InvalidKeyException(
						"The idempotency key must be visible ASCII without spaces or commas," + " or a quoted string.");
			}
		}
		return value;
	}

	private static String unquote(String value) {
		StringBuilder key = new StringBuilder(value.length());
		int i = 1;
		for (; i < value.length(); i++) {
			char c = value.charAt(i);
			if (c == '"') {
				break;
			}
			if (c == '\\') {
				char next = (i + 1 < value.length()) ? value.charAt(i + 1) : 0;
				if (next != '"' && next != '\\') {
					throw new InvalidKeyException("The quoted idempotency key has an invalid escape.");
				}
				key.append(next);
				i++;
			}
			else if (c < 0x20 || c >= 0x7f) {
				throw new InvalidKeyException(
						"The quoted idempotency key contains a character that is not" + " printable ASCII.");
			}
			else {
				key.append(c);
			}
		}
		if (i == value.length()) {
			throw new InvalidKeyException("The quoted idempotency key has no closing quote.");
		}
		String rest = value.substring(i + 1);
		if (!rest.isEmpty() && !isParameters(rest)) {
			throw new InvalidKeyException("The idempotency key has text after its closing quote.");
		}
		return key.toString();
	}

	/**
	 * Whether the text after an sf-string is a run of structured-field parameters
	 * ({@code ;name} or {@code ;name=value}, RFC 9651 section 3.1.2), then spaces. Their
	 * values are checked for their syntax only: parameters are ignored. Read in one pass,
	 * without backtracking or recursion, as the header may be kilobytes long.
	 */
	private static boolean isParameters(String rest) {
		int i = 0;
		int length = rest.length();
		while (i < length && rest.charAt(i) == ';') {
			i = skipSpaces(rest, i + 1);
			if (i == length || !(isLowerAlpha(rest.charAt(i)) || rest.charAt(i) == '*')) {
				return false;
			}
			i++;
			while (i < length && isKeyChar(rest.charAt(i))) {
				i++;
			}
			if (i < length && rest.charAt(i) == '=') {
				i = bareItemEnd(rest, i + 1);
				if (i < 0) {
					return false;
				}
			}
		}
		return skipSpaces(rest, i) == length;
	}

	// Where the bare item starting at i ends, or -1 if none starts there: a string, a
	// display string, a byte sequence, a boolean, a date, an integer or decimal, a token.
	private static int bareItemEnd(String text, int i) {
		int length = text.length();
		if (i == length) {
			return -1;
		}
		char first = text.charAt(i);
		if (first == '"') {
			for (int j = i + 1; j < length; j++) {
				char c = text.charAt(j);
				if (c == '"') {
					return j + 1;
				}
				if (c == '\\') {
					if (j + 1 == length || (text.charAt(j + 1) != '"' && text.charAt(j + 1) != '\\')) {
						return -1;
					}
					j++;
				}
				else if (c < 0x20 || c > 0x7e) {
					return -1;
				}
			}
			return -1;
		}
		if (first == '%') {
			if (i + 1 == length || text.charAt(i + 1) != '"') {
				return -1;
			}
			for (int j = i + 2; j < length; j++) {
				char c = text.charAt(j);
				if (c == '"') {
					return j + 1;
				}
				if (c == '%') {
					if (j + 2 >= length || !isLowerHex(text.charAt(j + 1)) || !isLowerHex(text.charAt(j + 2))) {
						return -1;
					}
					j += 2;
				}
				else if (c < 0x20 || c > 0x7e) {
					return -1;
				}
			}
			return -1;
		}
		if (first == ':') {
			for (int j = i + 1; j < length; j++) {
				char c = text.charAt(j);
				if (c == ':') {
					return j + 1;
				}
				if (!(isAlpha(c) || isDigit(c) || c == '+' || c == '/' || c == '=')) {
					return -1;
				}
			}
			return -1;
		}
		if (first == '?') {
			return (i + 1 < length && (text.charAt(i + 1) == '0' || text.charAt(i + 1) == '1')) ? i + 2 : -1;
		}
		if (first == '@') {
			return numberEnd(text, i + 1, false);
		}
		if (first == '-' || isDigit(first)) {
			return numberEnd(text, i, true);
		}
		if (isAlpha(first) || first == '*') {
			int j = i + 1;
			while (j < length && (isTokenChar(text.charAt(j)))) {
				j++;
			}
			return j;
		}
		return -1;
	}

	// An integer of up to 15 digits, or where allowed a decimal: up to 12 digits, a dot,
	// then 1 to 3 digits; either signed.
	private static int numberEnd(String text, int i, boolean decimalAllowed) {
		int length = text.length();
		int start = (i < length && text.charAt(i) == '-') ? i + 1 : i;
		int j = start;
		while (j < length && isDigit(text.charAt(j))) {
			j++;
		}
		int digits = j - start;
		if (digits == 0 || digits > 15) {
			return -1;
		}
		if (!decimalAllowed || j == length || text.charAt(j) != '.') {
			return j;
		}
		int fractionStart = j + 1;
		int k = fractionStart;
		while (k < length && isDigit(text.charAt(k))) {
			k++;
		}
		return (digits <= 12 && k > fractionStart && k - fractionStart <= 3) ? k : -1;
	}

	private static int skipSpaces(String text, int i) {
		while (i < text.length() && text.charAt(i) == ' ') {
			i++;
		}
		return i;
	}

	private static boolean isKeyChar(char c) {
		return isLowerAlpha(c) || isDigit(c) || c == '_' || c == '-' || c == '.' || c == '*';
	}

	private static boolean isTokenChar(char c) {
		return isAlpha(c) || isDigit(c) || c == ':' || c == '/' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
	}

	private static boolean isLowerAlpha(char c) {
		return c >= 'a' && c <= 'z';
	}

	private static boolean isAlpha(char c) {
		return isLowerAlpha(c) || (c >= 'A' && c <= 'Z');
	}

	private static boolean isDigit(char c) {
		return c >= '0' && c <= '9';
	}

	private static boolean isLowerHex(char c) {
		return isDigit(c) || (c >= 'a' && c <= 'f');
	}

	/**
	 * Thrown for a key that cannot be used; its message is safe to show to the client.
	 */
	public static final class InvalidKeyException extends RuntimeException {

		InvalidKeyException(String message) {
			super(message, null, false, false);
		}

	}

}
