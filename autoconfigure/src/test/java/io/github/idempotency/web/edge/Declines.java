package io.github.idempotency.web.edge;

/**
 * Something that declines, with a name and a body: a controller's handler and a service's
 * method may share the interface.
 *
 * @param <T> what declining answers
 */
public interface Declines<T> {

	T decline(String name, String body);

}
