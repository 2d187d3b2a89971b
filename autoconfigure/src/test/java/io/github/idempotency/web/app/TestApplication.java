package io.github.idempotency.web.app;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A small application with idempotent endpoints of every shape, for the web tests.
 */
@SpringBootApplication
public class TestApplication {

}
