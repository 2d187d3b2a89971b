package io.github.idempotency.autoconfigure;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.boot.autoconfigure.ImportAutoConfiguration;

/**
 * Brings idempotency into a test slice, such as {@code @WebMvcTest}, which leaves it out
 * along with the AOP proxying {@code @Idempotent} needs: the store (Redis when the slice
 * has a {@code RedisConnectionFactory}, the JDBC store when it has a {@code DataSource},
 * else memory), the advice, and the Spring MVC filter and interceptor. The
 * auto-configurations it imports are listed in
 * {@code META-INF/spring/io.github.idempotency.autoconfigure.AutoConfigureIdempotency.imports}.
 *
 * @since 0.1.0
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ImportAutoConfiguration
public @interface AutoConfigureIdempotency {

}
