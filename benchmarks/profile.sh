#!/usr/bin/env bash
# Where a request's CPU goes, on one Spring Boot line: starts the benchmark application, loads each path with wrk and
# reports, per request, the CPU time of the application and of Redis (from /proc and INFO cpu), and async-profiler's
# CPU samples of the application by component. Writes benchmarks/target/profile-<line>/.
# async-profiler comes from Maven Central (tools.profiler:async-profiler), the library loaded into the running JVM.
# Usage: benchmarks/profile.sh [boot3 | boot4, default boot3] [seconds per path, default 15]
# REDIS_PORT names another server on 127.0.0.1 than the Redis on 6379, such as a Valkey with SET ... IFEQ.
# Run benchmarks/run.sh (or its build step) for the line first: this uses its build. Attaching a profiler to a running
# JVM is not free of risk: once on 2026-12-02 the application crashed (SIGSEGV in the JVM's GC code) right after the
# profiler started; run it again when that happens.
set -euo pipefail
cd "$(dirname "$0")/.."
line="${1:-boot3}"
duration="${2:-15}"
port=8089
redis_port="${REDIS_PORT:-6379}"
out="benchmarks/target/profile-$line"
rm -rf "$out"
mkdir -p "$out"

if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
version=4.1
jar="$HOME/.m2/repository/tools/profiler/async-profiler/$version/async-profiler-$version.jar"
[[ -f $jar ]] || ./mvnw -q dependency:get -Dartifact="tools.profiler:async-profiler:$version"
unzip -o -q "$jar" 'linux-x64/*' -d "$out"
profiler="$(pwd)/$out/linux-x64/libasyncProfiler.so"

classes=benchmarks/target/classes
[[ $line == boot4 ]] && classes=benchmarks/target/boot4/classes
classpath="$classes:$(cat "benchmarks/target/classpath-$line.txt")"
redis-cli -p "$redis_port" --scan --pattern 'bench:*' | xargs -r -n 500 redis-cli -p "$redis_port" del >/dev/null
java -Xms512m -Xmx512m -cp "$classpath" io.github.idempotency.benchmarks.BenchmarkApplication \
  --server.port=$port --spring.data.redis.port="$redis_port" > "$out/app.log" 2>&1 &
app=$!
trap 'kill $app 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -s -o /dev/null "http://127.0.0.1:$port/plain" -X POST -H 'Content-Type: application/json' \
    -d '{"name":"a","quantity":1}' && break
  sleep 0.5
done

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$app/stat"; }
redis_cpu() { redis-cli -p "$redis_port" info cpu | tr -d '\r' | awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.6f", s }'; }
ticks_per_second=$(getconf CLK_TCK)

# Completes the 1,000 replay keys of both the starter and the floor.
wrk -t1 -c32 -d20s -s benchmarks/wrk/requests.lua "http://127.0.0.1:$port/idempotent" -- replay >/dev/null
wrk -t1 -c32 -d20s -s benchmarks/wrk/requests.lua "http://127.0.0.1:$port/floor" -- replay >/dev/null
for path in "plain unique" "idempotent unique" "floor unique" "idempotent replay" "floor-replay replay"; do
  name="${path% *}-${path#* }"
  wrk -t1 -c32 -d20s -s benchmarks/wrk/requests.lua "http://127.0.0.1:$port/${path% *}" -- "${path#* }" >/dev/null
  # jcmd would read an unquoted option with "=" as a named argument of its own.
  jcmd $app JVMTI.agent_load "$profiler" "\"start,event=itimer,interval=1ms\"" >/dev/null
  app_before=$(cpu_ticks)
  redis_before=$(redis_cpu)
  requests=$(wrk -t1 -c32 -d"${duration}s" -s benchmarks/wrk/requests.lua "http://127.0.0.1:$port/${path% *}" \
    -- "${path#* }" | grep '^RESULT' | sed 's/.*requests=\([0-9]*\).*/\1/')
  app_after=$(cpu_ticks)
  redis_after=$(redis_cpu)
  jcmd $app JVMTI.agent_load "$profiler" "\"stop,collapsed,file=$(pwd)/$out/$name.collapsed\"" >/dev/null
  python3 - "$out/$name.collapsed" "$name" "$requests" "$((app_after - app_before))" "$ticks_per_second" \
    "$redis_before" "$redis_after" <<'EOF' | tee -a "$out/summary.txt"
import collections, sys
path, name, requests, ticks, per_second, redis_before, redis_after = sys.argv[1:]
requests = int(requests)
app_us = int(ticks) / int(per_second) * 1e6 / requests
redis_us = (float(redis_after) - float(redis_before)) * 1e6 / requests
# The first frame of each stack, from the top, that names one of these decides its component.
components = [
    ("benchmark application", "io/github/idempotency/benchmarks/"), ("idempotency starter", "io/github/idempotency/"), ("Lettuce / Netty (Redis client)", "io/lettuce/"),
    ("Lettuce / Netty (Redis client)", "io/netty/"), ("Spring Data Redis", "org/springframework/data/redis/"),
    ("Jackson", "com/fasterxml/jackson/"), ("Jackson", "tools/jackson/"),
    ("Spring MVC and web", "org/springframework/web/"), ("Spring MVC and web", "org/springframework/http/"),
    ("Spring AOP", "org/springframework/aop/"), ("Tomcat", "org/apache/tomcat/"), ("Tomcat", "org/apache/catalina/"),
    ("Tomcat", "org/apache/coyote/"), ("garbage collection", "G1"), ("JIT compiler", "CompileBroker"),
    ("JIT compiler", "C2Compiler"),
]
samples = collections.Counter()
total = 0
for line in open(path):
    stack, count = line.rsplit(" ", 1)
    count = int(count)
    total += count
    frames = stack.split(";")
    found = "other (JDK, kernel, ...)"
    for frame in reversed(frames):
        hit = next((label for label, marker in components if marker in frame), None)
        if hit:
            found = hit
            break
    samples[found] += count
print(f"{name}: {requests} requests; application CPU {app_us:.1f} µs/request, Redis CPU {redis_us:.1f} µs/request")
for label, count in samples.most_common():
    print(f"  {label}: {100 * count / total:.1f}% ({app_us * count / total:.1f} µs/request)")
EOF
done
