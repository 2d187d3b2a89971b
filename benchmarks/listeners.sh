#!/usr/bin/env bash
# Message listeners under load: messages/s through one Kafka consumer (a broker in the process) and one RabbitMQ
# consumer, plain and @Idempotent side by side, and the Redis commands per message. Usage:
# benchmarks/listeners.sh [messages per round] [rounds]. Needs Redis on 127.0.0.1:6379 and RabbitMQ on
# 127.0.0.1:5672. Run it on a quiet machine, from a clone of its own: it builds the working tree.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -B -ntp -pl benchmarks -am package dependency:build-classpath -DskipTests \
  -Dmdep.outputFile=target/classpath-boot3.txt
classpath="benchmarks/target/classes:$(cat benchmarks/target/classpath-boot3.txt)"
java -cp "$classpath" io.github.idempotency.benchmarks.ListenerLoadRun "${1:-20000}" "${2:-3}"
