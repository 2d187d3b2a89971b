package io.github.idempotency.benchmarks;

import java.time.Duration;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.github.idempotency.annotation.Idempotent;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.amqp.rabbit.listener.RabbitListenerEndpointRegistry;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.Lifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.support.KafkaHeaders;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.messaging.handler.annotation.Payload;

/**
 * A load run of message listeners: messages per second through one Kafka consumer (a
 * broker in this process) and one RabbitMQ consumer (the machine's), each as a plain
 * listener and as an {@code @Idempotent} one, side by side, and the Redis commands each
 * message costs. Each round fills a listener's topic or queue while the listener is
 * stopped, then starts it and times it until it has taken every message, so that the
 * consumer alone is measured. Run by {@code benchmarks/listeners.sh}; needs Redis on
 * 127.0.0.1:6379 and RabbitMQ on 127.0.0.1:5672.
 */
// Not a @Configuration: the benchmark application's component scan would pick it up.
@EnableAutoConfiguration(excludeName = { "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
		"org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration" })
public class ListenerLoadRun {

	static final String RUN = UUID.randomUUID().toString();

	public static final String PLAIN = "load-plain-" + RUN;

	public static final String IDEMPOTENT = "load-idempotent-" + RUN;

	public static final String FLOOR = "load-floor-" + RUN;

	public static void main(String[] args) throws Exception {
		int messages = (args.length > 0) ? Integer.parseInt(args[0]) : 20_000;
		int rounds = (args.length > 1) ? Integer.parseInt(args[1]) : 3;
		EmbeddedKafkaKraftBroker kafka = new EmbeddedKafkaKraftBroker(1, 1);
		kafka.afterPropertiesSet();
		try (ConfigurableApplicationContext context = new SpringApplication(ListenerLoadRun.class).run(
				"--spring.kafka.bootstrap-servers=" + kafka.getBrokersAsString(),
				"--spring.kafka.consumer.auto-offset-reset=earliest", "--spring.main.web-application-type=none",
				"--spring.rabbitmq.listener.simple.auto-startup=false", "--idempotency.key-prefix=load-" + RUN,
				"--logging.level.root=warn")) {
			Rounds measure = new Rounds(context, kafka.getBrokersAsString(), messages);
			System.out.printf("%d messages per listener and round, %d rounds, %d cores%n", messages, rounds,
					Runtime.getRuntime().availableProcessors());
			for (int round = 1; round <= rounds; round++) {
				measure.kafka("plain", PLAIN, round);
				measure.kafka("floor", FLOOR, round);
				measure.kafka("idempotent", IDEMPOTENT, round);
				measure.rabbit("plain", PLAIN, round);
				measure.rabbit("floor", FLOOR, round);
				measure.rabbit("idempotent", IDEMPOTENT, round);
			}
		}
		finally {
			kafka.destroy();
		}
	}

	@Bean
	Listeners listeners(StringRedisTemplate redis) {
		return new Listeners(redis);
	}

	@Bean
	NewTopic plainTopic() {
		return TopicBuilder.name(PLAIN).partitions(1).replicas(1).build();
	}

	@Bean
	NewTopic idempotentTopic() {
		return TopicBuilder.name(IDEMPOTENT).partitions(1).replicas(1).build();
	}

	@Bean
	NewTopic floorTopic() {
		return TopicBuilder.name(FLOOR).partitions(1).replicas(1).build();
	}

	@Bean
	Queue floorQueue() {
		return QueueBuilder.nonDurable(FLOOR).expires(600_000).build();
	}

	@Bean
	Queue plainQueue() {
		return QueueBuilder.nonDurable(PLAIN).expires(600_000).build();
	}

	@Bean
	Queue idempotentQueue() {
		return QueueBuilder.nonDurable(IDEMPOTENT).expires(600_000).build();
	}

	/**
	 * Fills a listener's topic or queue, starts the listener, and times it until it has
	 * taken every message.
	 */
	static final class Rounds {

		private final ConfigurableApplicationContext context;

		private final String bootstrapServers;

		private final int messages;

		private final Listeners listeners;

		private final StringRedisTemplate redis;

		Rounds(ConfigurableApplicationContext context, String bootstrapServers, int messages) {
			this.context = context;
			this.bootstrapServers = bootstrapServers;
			this.messages = messages;
			this.listeners = context.getBean(Listeners.class);
			this.redis = context.getBean(StringRedisTemplate.class);
		}

		void kafka(String kind, String topic, int round) throws InterruptedException {
			Lifecycle container = this.context.getBean(KafkaListenerEndpointRegistry.class)
				.getListenerContainer(kind + "-kafka");
			container.stop();
			Properties producer = new Properties();
			producer.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, this.bootstrapServers);
			producer.put(ProducerConfig.LINGER_MS_CONFIG, 5);
			try (KafkaProducer<String, String> sender = new KafkaProducer<>(producer, new StringSerializer(),
					new StringSerializer())) {
				for (int i = 0; i < this.messages; i++) {
					sender.send(new ProducerRecord<>(topic, key(round, i), payload(i)));
				}
				sender.flush();
			}
			time("kafka", kind, container);
		}

		void rabbit(String kind, String queue, int round) throws InterruptedException {
			Lifecycle container = this.context.getBean(RabbitListenerEndpointRegistry.class)
				.getListenerContainer(kind + "-rabbit");
			container.stop();
			RabbitTemplate rabbit = this.context.getBean(RabbitTemplate.class);
			for (int i = 0; i < this.messages; i++) {
				String key = key(round, i);
				rabbit.convertAndSend("", queue, payload(i), (message) -> {
					message.getMessageProperties().setHeader("payment", key);
					return message;
				});
			}
			time("rabbitmq", kind, container);
		}

		private void time(String broker, String kind, Lifecycle container) throws InterruptedException {
			CountDownLatch taken = new CountDownLatch(this.messages);
			this.listeners.expect(taken);
			long commandsBefore = commandsProcessed();
			long start = System.nanoTime();
			container.start();
			if (!taken.await(5, TimeUnit.MINUTES)) {
				throw new IllegalStateException(broker + " " + kind + " listener did not take every message");
			}
			double seconds = (System.nanoTime() - start) / 1e9;
			// Less the INFO command that reads the count.
			long commands = commandsProcessed() - commandsBefore - 1;
			System.out.printf("%-9s %-11s %9.0f messages/s   %5.2f Redis commands per message%n", broker, kind,
					this.messages / seconds, (double) commands / this.messages);
		}

		private long commandsProcessed() {
			Properties stats = this.redis
				.execute((RedisCallback<Properties>) (connection) -> connection.serverCommands().info("stats"));
			return Long.parseLong(stats.getProperty("total_commands_processed"));
		}

		private static String key(int round, int message) {
			return "round-" + round + "-payment-" + message;
		}

		private static String payload(int message) {
			return "{\"amount\":" + message + ",\"currency\":\"EUR\"}";
		}

	}

	/**
	 * The same trivial work on each broker: plain; plain after the two Redis round trips
	 * any Redis-backed deduplication needs at the least, written by hand (the floor); and
	 * {@code @Idempotent}.
	 */
	public static class Listeners {

		private static final Duration LEASE = Duration.ofSeconds(30);

		private static final Duration RETENTION = Duration.ofHours(1);

		private final StringRedisTemplate redis;

		private volatile CountDownLatch latch = new CountDownLatch(0);

		public Listeners(StringRedisTemplate redis) {
			this.redis = redis;
		}

		// Through the proxy to the bean itself, whose methods count down.
		public void expect(CountDownLatch latch) {
			this.latch = latch;
		}

		@KafkaListener(id = "plain-kafka", topics = "#{T(io.github.idempotency.benchmarks.ListenerLoadRun).PLAIN}",
				autoStartup = "false")
		public void plainKafka(@Payload String event, @Header(KafkaHeaders.RECEIVED_KEY) String payment) {
			this.latch.countDown();
		}

		@KafkaListener(id = "idempotent-kafka",
				topics = "#{T(io.github.idempotency.benchmarks.ListenerLoadRun).IDEMPOTENT}", autoStartup = "false")
		@Idempotent(key = "#payment")
		public void idempotentKafka(@Payload String event, @Header(KafkaHeaders.RECEIVED_KEY) String payment) {
			this.latch.countDown();
		}

		@KafkaListener(id = "floor-kafka", topics = "#{T(io.github.idempotency.benchmarks.ListenerLoadRun).FLOOR}",
				autoStartup = "false")
		public void floorKafka(@Payload String event, @Header(KafkaHeaders.RECEIVED_KEY) String payment) {
			floor("kafka", payment);
		}

		@RabbitListener(id = "floor-rabbit", queues = "#{T(io.github.idempotency.benchmarks.ListenerLoadRun).FLOOR}")
		public void floorRabbit(@Payload String event, @Header("payment") String payment) {
			floor("rabbit", payment);
		}

		// A claim that only sets the key when absent, then the outcome over it.
		private void floor(String broker, String payment) {
			String key = "load-floor-" + RUN + ":" + broker + ":" + payment;
			if (Boolean.TRUE.equals(this.redis.opsForValue().setIfAbsent(key, "in_progress", LEASE))) {
				this.latch.countDown();
				this.redis.opsForValue().set(key, "done", RETENTION);
			}
		}

		@RabbitListener(id = "plain-rabbit", queues = "#{T(io.github.idempotency.benchmarks.ListenerLoadRun).PLAIN}")
		public void plainRabbit(@Payload String event, @Header("payment") String payment) {
			this.latch.countDown();
		}

		@RabbitListener(id = "idempotent-rabbit",
				queues = "#{T(io.github.idempotency.benchmarks.ListenerLoadRun).IDEMPOTENT}")
		@Idempotent(key = "#payment")
		public void idempotentRabbit(@Payload String event, @Header("payment") String payment) {
			this.latch.countDown();
		}

	}

}
