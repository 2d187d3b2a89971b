#!/usr/bin/env bash
# The HTTP load run with the JDBC store, side by side with Redis, on Spring Boot 3.5: one benchmark application keeps
# its records in Redis, another (profile jdbc) in the machine's PostgreSQL; wrk drives the plain handler, the
# @Idempotent one with a new key per request, and the @Idempotent one replaying 1,000 completed keys, on each, taking
# turns in an order that reverses every round. Needs wrk, Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432
# (user postgres, database test). Usage: benchmarks/jdbc-http.sh [seconds per run, default 8] [rounds, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-8}
rounds=${2:-3}
out=benchmarks/target/jdbc-http
mkdir -p "$out"
if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
./mvnw -q -B -ntp -pl benchmarks -am package dependency:build-classpath -DskipTests \
  -Dmdep.outputFile=target/classpath-boot3.txt
classpath="benchmarks/target/classes:$(cat benchmarks/target/classpath-boot3.txt)"
psql -q -h 127.0.0.1 -U postgres test -c 'DROP TABLE IF EXISTS bench_http_record' >/dev/null
redis-cli --scan --pattern 'bench:*' | xargs -r -n 500 redis-cli del >/dev/null
java -Xms512m -Xmx512m -cp "$classpath" io.github.idempotency.benchmarks.BenchmarkApplication --server.port=8091 \
  > "$out/redis.log" 2>&1 &
redis_app=$!
java -Xms512m -Xmx512m -cp "$classpath" io.github.idempotency.benchmarks.BenchmarkApplication --server.port=8092 \
  --spring.profiles.active=jdbc > "$out/jdbc.log" 2>&1 &
jdbc_app=$!
trap 'kill $redis_app $jdbc_app 2>/dev/null || true' EXIT
for port in 8091 8092; do
  for _ in $(seq 1 120); do
    curl -s -o /dev/null "http://127.0.0.1:$port/plain" -X POST -H 'Content-Type: application/json' \
      -d '{"name":"a","quantity":1}' && break
    sleep 0.5
  done
done
run() { # name url mode
  wrk -t1 -c32 -d"${duration}s" -s benchmarks/wrk/requests.lua "$2" -- "$3" | grep '^RESULT' | sed "s/^/$1 /"
}
runs=("plain http://127.0.0.1:8092/plain unique" "redis-unique http://127.0.0.1:8091/idempotent unique"
  "jdbc-unique http://127.0.0.1:8092/idempotent unique" "redis-replay http://127.0.0.1:8091/idempotent replay"
  "jdbc-replay http://127.0.0.1:8092/idempotent replay")
echo "Warming up and completing the 1,000 replay keys"
for r in "${runs[@]}"; do
  # shellcheck disable=SC2086
  set -- $r
  wrk -t1 -c32 -d10s -s benchmarks/wrk/requests.lua "$2" -- "$3" >/dev/null
done
: > "$out/load.txt"
for round in $(seq 1 "$rounds"); do
  order=("${runs[@]}")
  if ((round % 2 == 0)); then
    order=()
    for ((i = ${#runs[@]} - 1; i >= 0; i--)); do order+=("${runs[i]}"); done
  fi
  for r in "${order[@]}"; do
    # shellcheck disable=SC2086
    run $r | tee -a "$out/load.txt"
  done
done
python3 - "$out/load.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, _, *fields = line.split()
    runs.setdefault(name, []).append(dict(f.split("=") for f in fields))
plain = statistics.mean(float(r["rps"]) for r in runs["plain"])
print("requests/s (mean of rounds), p99 ms (median), non-2xx, and against plain")
for name, rs in runs.items():
    rps = statistics.mean(float(r["rps"]) for r in rs)
    print(f"  {name:13s} {rps:8.0f}  p99 {statistics.median(float(r['p99']) for r in rs):6.2f}"
          f"  non2xx {sum(int(r['non2xx']) for r in rs):3d}  {rps / plain:.2f}")
PY
