package io.github.idempotency.interceptor;

import java.util.regex.Pattern;

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

	// A bare item: string, token, integer or decimal, boolean, byte sequence, date, or
	// display string.
	private static final String BARE_ITEM = "(?:\"(?:[\\x20\\x21\\x23-\\x5B\\x5D-\\x7E]|\\\\[\"\\\\])*\""
			+ "|[A-Za-z*][!#$%&'*+.^_`|~:/A-Za-z0-9-]*" + "|-?[0-9]{1,15}(?:\\.[0-9]{1,3})?" + "|\\?[01]"
			+ "|:[A-Za-z0-9+/=]*:" + "|@-?[0-9]{1,15}"
			+ "|%\"(?:[\\x20\\x21\\x23\\x24\\x26-\\x5B\\x5D-\\x7E]|%[0-9a-f]{2})*\")";

	private static final Pattern PARAMETERS = Pattern.compile("(?:; *[a-z*][a-z0-9_.*-]*(?:=" + BARE_ITEM + ")?)+ *");

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
	 * ({@code ;name} or {@code ;name=value}, RFC 9651 section 3.1.2). Their values are
	 * checked for their syntax only: parameters are ignored.
	 */
	private static boolean isParameters(String rest) {
		return PARAMETERS.matcher(rest).matches();
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
