package io.github.idempotency.test;

import org.springframework.util.ClassUtils;

/**
 * The Spring Boot line the tests run on, and the auto-configurations that moved between
 * lines, by name, so that one test source tree compiles and runs against Boot 3.5 and
 * Boot 4.
 */
public final class BootLine {

	/**
	 * Whether the tests run on Spring Boot 4, whose auto-configurations live in modules.
	 */
	public static final boolean BOOT_4 = ClassUtils
		.isPresent("org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration", null);

	private BootLine() {
	}

	/**
	 * Spring Data Redis's auto-configuration on this line.
	 * @return the auto-configuration class
	 */
	public static Class<?> redisAutoConfiguration() {
		return load(BOOT_4 ? "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration"
				: "org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration");
	}

	/**
	 * Spring MVC's auto-configuration on this line.
	 * @return the auto-configuration class
	 */
	public static Class<?> webMvcAutoConfiguration() {
		return load(BOOT_4 ? "org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration"
				: "org.springframework.boot.autoconfigure.web.servlet.WebMvcAutoConfiguration");
	}

	/**
	 * Jackson's auto-configuration on the line under test.
	 * @return the auto-configuration class
	 */
	public static Class<?> jacksonAutoConfiguration() {
		return load(BOOT_4 ? "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration"
				: "org.springframework.boot.autoconfigure.jackson.JacksonAutoConfiguration");
	}

	/**
	 * RabbitMQ's auto-configuration on the line under test.
	 * @return the auto-configuration class
	 */
	public static Class<?> rabbitAutoConfiguration() {
		return load(BOOT_4 ? "org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration"
				: "org.springframework.boot.autoconfigure.amqp.RabbitAutoConfiguration");
	}

	private static Class<?> load(String name) {
		return ClassUtils.resolveClassName(name, BootLine.class.getClassLoader());
	}

}
