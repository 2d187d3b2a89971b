#!/usr/bin/env bash
# Measures what @Idempotent costs and writes a Markdown report to benchmarks/target/report.md:
#   1. a load run over loopback against a real Redis: one trivial JSON handler exposed plain, plus the Redis work no
#      idempotency layer can avoid (the floor), and @Idempotent, for unique keys, replays and a mix;
#   2. Redis commands per request on each path, from INFO commandstats around each run;
#   3. the memory one stored record takes in Redis, for a 1 KB JSON response;
#   4. JMH: the interceptor's own cost and allocations, with the in-memory store.
# Needs a JDK, wrk (installed from Debian's packages if missing) and a Redis on 127.0.0.1:6379 (started if none).
# Usage: benchmarks/run.sh [seconds per load run, default 8] [rounds, default 6]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-8}"
rounds="${2:-6}"
port=8089
out=benchmarks/target
mkdir -p "$out"
report="$out/report.md"

if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
if ! redis-cli -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  sleep 1
fi

./mvnw -q -B -ntp -pl benchmarks -am package dependency:build-classpath -DskipTests \
  -Dmdep.outputFile=target/classpath.txt
classpath="benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)"

redis-cli --scan --pattern 'bench:*' | xargs -r -n 500 redis-cli del >/dev/null
java -Xms512m -Xmx512m -cp "$classpath" io.github.idempotency.benchmarks.BenchmarkApplication \
  --server.port=$port > "$out/app.log" 2>&1 &
app=$!
trap 'kill $app 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -s -o /dev/null "http://127.0.0.1:$port/plain" -X POST -H 'Content-Type: application/json' \
    -d '{"name":"a","quantity":1}' && break
  sleep 0.5
done

# One record for a ~1 KB response, alone under its prefix, to read its size.
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/idempotent-1k" -H 'Idempotency-Key: memory-probe' \
  -H 'Content-Type: application/json' -d '{"name":"book","quantity":2}'
record=$(redis-cli --scan --pattern 'bench:idem:*' | head -1)
record_bytes=$(redis-cli memory usage "$record")
response_bytes=$(curl -s -X POST "http://127.0.0.1:$port/idempotent-1k" -H 'Idempotency-Key: memory-probe' \
  -H 'Content-Type: application/json' -d '{"name":"book","quantity":2}' | wc -c)

client_calls() { # regex of the commands not to count
  # INFO commandstats counts the commands scripts run as well as those clients send. The starter's scripts run GET,
  # SET, PEXPIRE, PTTL, DEL and TYPE, which the floor endpoints send themselves; so runs against @Idempotent endpoints
  # leave those out (the starter sends none of them itself on these paths), and every run leaves out INFO.
  redis-cli info commandstats | tr -d '\r' | awk -F'[:=,]' -v skip="$1" '/^cmdstat_/ {
      name = substr($1, 9)
      if (name !~ skip) total += $3 }
    END { print total + 0 }'
}

run_once() { # name path mode [replay path]: one wrk run, one line in load.txt
  local name=$1 path=$2 mode=$3 replay=${4:-}
  local before after line skip='^info$'
  [[ $path == /idempotent* ]] && skip='^(info|get|set|pexpire|pttl|del|type)$'
  before=$(client_calls "$skip")
  line=$(wrk -t1 -c32 -d"${duration}s" -s benchmarks/wrk/requests.lua "http://127.0.0.1:$port$path" \
    -- "$mode" $replay | grep '^RESULT')
  after=$(client_calls "$skip")
  echo "$name $line commands=$((after - before))" | tee -a "$out/load.txt"
}

# Endpoints compared with each other take turns, in an order that reverses every round (A B, B A, A B, ...): on a
# machine whose speed drifts during the run, both sides then meet the same conditions.
compare() { # round, then "name path mode [replay path]" per endpoint
  local round=$1
  shift
  local runs=("$@")
  if ((round % 2 == 0)); then
    local reversed=()
    for ((i = ${#runs[@]} - 1; i >= 0; i--)); do reversed+=("${runs[i]}"); done
    runs=("${reversed[@]}")
  fi
  for run in "${runs[@]}"; do
    # shellcheck disable=SC2086
    run_once $run
  done
}

: > "$out/load.txt"
echo "Warming up and completing the 1,000 replay keys"
wrk -t1 -c32 -d10s -s benchmarks/wrk/requests.lua "http://127.0.0.1:$port/idempotent" -- replay >/dev/null
wrk -t1 -c32 -d10s -s benchmarks/wrk/requests.lua "http://127.0.0.1:$port/floor" -- replay >/dev/null
wrk -t1 -c32 -d10s -s benchmarks/wrk/requests.lua "http://127.0.0.1:$port/plain" -- unique >/dev/null
wrk -t1 -c32 -d10s -s benchmarks/wrk/requests.lua "http://127.0.0.1:$port/idempotent" -- unique >/dev/null

for round in $(seq 1 "$rounds"); do
  compare "$round" "unique-plain /plain unique" "unique-floor /floor unique" "unique-idempotent /idempotent unique"
  compare "$round" "replay-floor /floor-replay replay" "replay-idempotent /idempotent replay"
  compare "$round" "mixed-floor /floor mixed /floor-replay" "mixed-idempotent /idempotent mixed"
done
kill $app; wait $app 2>/dev/null || true

echo "Running JMH"
# One fork per benchmark and round, the order reversing every round as for the load runs: JMH runs benchmarks one
# after another, so without this a drift in the machine's speed would pass for a difference between them.
benchmarks=(plain firstExecution firstExecutionNotKept replay conflict largePlain largeFirstExecution largeReplay)
: > "$out/jmh.txt"
rm -f "$out"/jmh-*-*.json
for round in 1 2; do
  order=("${benchmarks[@]}")
  if ((round % 2 == 0)); then
    order=()
    for ((i = ${#benchmarks[@]} - 1; i >= 0; i--)); do order+=("${benchmarks[i]}"); done
  fi
  for b in "${order[@]}"; do
    java -cp "$classpath" org.openjdk.jmh.Main "InterceptorOverheadBenchmark\.$b\$" -f 1 -prof gc -rf json \
      -rff "$out/jmh-$b-$round.json" >> "$out/jmh.txt" 2>&1
  done
done
# Merged per benchmark over its rounds: the mean of every measured iteration, ± their standard deviation.
python3 - "$out" <<'EOF'
import glob, json, statistics, sys
out = sys.argv[1]
iterations = {}
for path in sorted(glob.glob(out + "/jmh-*-*.json")):
    for result in json.load(open(path)):
        runs = iterations.setdefault(result["benchmark"], {"time": [], "alloc": []})
        runs["time"] += [v for fork in result["primaryMetric"]["rawData"] for v in fork]
        runs["alloc"] += [v for fork in result["secondaryMetrics"]["gc.alloc.rate.norm"]["rawData"] for v in fork]
def metric(values):
    return {"score": statistics.mean(values), "scoreError": statistics.stdev(values)}
json.dump([{"benchmark": name, "primaryMetric": metric(runs["time"]),
            "secondaryMetrics": {"gc.alloc.rate.norm": metric(runs["alloc"])}}
           for name, runs in iterations.items()], open(out + "/jmh.json", "w"), indent=1)
EOF

# Per endpoint over all its rounds: requests per second and Redis commands per request from the totals, latency
# percentiles as the median of the rounds'.
field() { # run-name field
  python3 - "$out/load.txt" "$1" "$2" <<'EOF'
import statistics, sys
path, name, field = sys.argv[1:]
runs = [dict(kv.split("=") for kv in line.split()[2:]) for line in open(path) if line.split()[0] == name]
if field == "rps":
    print("%.1f" % statistics.mean(float(r["rps"]) for r in runs))
elif field == "commands":
    print("%.2f" % (sum(int(r["commands"]) for r in runs) / sum(int(r["requests"]) for r in runs)))
elif field == "non2xx":
    print(sum(int(r["non2xx"]) for r in runs))
else:
    print("%.2f" % statistics.median(float(r[field]) for r in runs))
EOF
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
jmh() { # benchmark metric
  python3 -c "import json,sys
for r in json.load(open('$out/jmh.json')):
    if r['benchmark'].endswith('.$1'):
        m = r['primaryMetric'] if '$2' == 'time' else r['secondaryMetrics']['gc.alloc.rate.norm']
        print('%.1f ± %.1f' % (m['score'], m['scoreError']))"
}

{
  echo "# Performance report"
  echo
  echo "Generated by \`benchmarks/run.sh\` on $(date -u +%Y-%m-%d)."
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(java -version 2>&1 | head -1);"
  echo "Redis $(redis-cli info server | tr -d '\r' | awk -F: '/redis_version/ {print $2}') on loopback; wrk, application and Redis share the cores."
  echo "Load runs: wrk, 1 thread, 32 connections, after warm-up; $rounds rounds of ${duration} s per endpoint, the endpoints"
  echo "of each workload taking turns; requests/s is the mean of the rounds, latencies (ms) their median."
  echo
  echo "## Load over HTTP against Redis"
  echo
  echo "| Workload | Endpoint | Requests/s | p50 | p99 | p99.9 | Non-2xx | Redis commands per request |"
  echo "|---|---|---|---|---|---|---|---|"
  for run in unique-plain unique-floor unique-idempotent replay-floor replay-idempotent mixed-floor mixed-idempotent; do
    echo "| ${run%%-*} | ${run#*-} | $(field $run rps) | $(field $run p50) | $(field $run p99) | $(field $run p999) | $(field $run non2xx) | $(field $run commands) |"
  done
  echo
  echo "| Ratio | Measured | Target |"
  echo "|---|---|---|"
  echo "| unique keys: @Idempotent / floor | $(ratio "$(field unique-idempotent rps)" "$(field unique-floor rps)") | ≥ 0.90 |"
  echo "| unique keys: @Idempotent / plain | $(ratio "$(field unique-idempotent rps)" "$(field unique-plain rps)") | |"
  echo "| replays: @Idempotent / floor | $(ratio "$(field replay-idempotent rps)" "$(field replay-floor rps)") | ≥ 0.95 |"
  echo "| replays: @Idempotent / plain | $(ratio "$(field replay-idempotent rps)" "$(field unique-plain rps)") | |"
  echo "| mixed: @Idempotent / floor | $(ratio "$(field mixed-idempotent rps)" "$(field mixed-floor rps)") | |"
  echo
  echo "## Memory"
  echo
  echo "One record holding a ${response_bytes}-byte JSON response takes ${record_bytes} bytes in Redis (\`MEMORY USAGE\`)."
  echo
  echo "## Interceptor cost (JMH, in-memory store, MockMvc)"
  echo
  echo "Two forks per benchmark, run in turns (A B, then B A); the mean of their measured iterations ± standard deviation."
  echo
  echo "| Path | Time per request (µs) | Allocated per request (bytes) |"
  echo "|---|---|---|"
  for b in plain firstExecution firstExecutionNotKept replay conflict; do
    echo "| $b | $(jmh $b time) | $(jmh $b alloc) |"
  done
  echo
  echo "| Overhead over plain (µs) | Measured | Target |"
  echo "|---|---|---|"
  for b in firstExecutionNotKept firstExecution replay conflict; do
    echo "| $b | $(python3 -c "import json
rows = {r['benchmark'].rsplit('.', 1)[1]: r['primaryMetric']['score'] for r in json.load(open('$out/jmh.json'))}
print('%.1f' % (rows['$b'] - rows['plain']))") | $([ $b = firstExecutionNotKept ] && echo '< 5') |"
  done
  echo
  echo "firstExecution keeps each record for 1 s in the in-memory store, so the heap holds tens of thousands of records"
  echo "and the garbage collector copies them; firstExecutionNotKept removes each record after its request, which"
  echo "leaves the interceptor's own cost. The Redis store keeps records outside the JVM."
  echo
  echo "## Copies of a 1 MiB response body (JMH, in-memory store)"
  echo
  echo "Bytes allocated per request beyond the plain handler's, in MiB: how many times the starter copies the body."
  echo
  echo "| Path | Allocated per request (bytes) | Beyond plain (MiB) |"
  echo "|---|---|---|"
  for b in largePlain largeFirstExecution largeReplay; do
    echo "| $b | $(jmh $b alloc) | $(python3 -c "import json
rows = {r['benchmark'].rsplit('.', 1)[1]: r['secondaryMetrics']['gc.alloc.rate.norm']['score'] for r in json.load(open('$out/jmh.json'))}
print('%.2f' % ((rows['$b'] - rows['largePlain']) / 2**20))") |"
  done
} > "$report"
cat "$report"
