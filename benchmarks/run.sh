#!/usr/bin/env bash
# Measures what @Idempotent costs, on each Spring Boot line, and writes a Markdown report to benchmarks/target/report.md:
#   1. a load run over loopback against a real Redis: one trivial JSON handler exposed plain, plus the Redis work no
#      idempotency layer can avoid (the floor), and @Idempotent, for unique keys, replays and a mix; and the plain
#      handler of the same application started without the starter's jar, for what the starter costs endpoints
#      without @Idempotent, beside a third process with the starter that serves nothing but that handler;
#   2. Redis commands each request sends, counted with MONITOR over a short run of each path;
#   3. the memory one stored record takes in Redis, for a 1 KB JSON response;
#   4. JMH: the interceptor's own cost and allocations, with the in-memory store.
# Needs a JDK, wrk (installed from Debian's packages if missing) and a Redis on 127.0.0.1:6379 (started if none).
# REDIS_PORT names another server on 127.0.0.1 instead, such as a Valkey with SET ... IFEQ; it must be running.
# Usage: benchmarks/run.sh [boot3 | boot4 | both, default both] [seconds per load run, default 8] [rounds, default 6]
#                         [JMH rounds, default 2; 0 skips JMH]
set -euo pipefail
cd "$(dirname "$0")/.."
lines="${1:-both}"
[[ $lines == both ]] && lines="boot3 boot4"
duration="${2:-8}"
rounds="${3:-6}"
jmh_rounds="${4:-2}"
redis_port="${REDIS_PORT:-6379}"
port=8089
bare_port=8090
only_plain_port=8091
out=benchmarks/target
mkdir -p "$out"
report="$out/report.md"

if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
rcli() { redis-cli -p "$redis_port" "$@"; }
if [[ $redis_port == 6379 ]] && ! rcli ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  sleep 1
fi

start_app() { # port classpath log
  java -Xms512m -Xmx512m -cp "$2" io.github.idempotency.benchmarks.BenchmarkApplication --server.port="$1" \
    --spring.data.redis.port="$redis_port" \
    > "$3" 2>&1 &
  echo $!
}

await_app() { # port
  for _ in $(seq 1 120); do
    curl -s -o /dev/null "http://127.0.0.1:$1/plain" -X POST -H 'Content-Type: application/json' \
      -d '{"name":"a","quantity":1}' && return
    sleep 0.5
  done
  echo "The benchmark application on port $1 did not start" >&2
  exit 1
}

run_once() { # name url mode [replay path]: one wrk run, one line in load.txt
  local name=$1 url=$2 mode=$3 replay=${4:-}
  local line
  # Two seconds of the same load first, not recorded: without them, @Idempotent unique keys ran about 30% slower in
  # every round where they came first, right after another workload, which moved the mean by up to 15%.
  # shellcheck disable=SC2086
  wrk -t1 -c32 -d2s -s benchmarks/wrk/requests.lua "$url" -- "$mode" $replay >/dev/null
  line=$(wrk -t1 -c32 -d"${duration}s" -s benchmarks/wrk/requests.lua "$url" -- "$mode" $replay | grep '^RESULT')
  echo "$name $line" | tee -a "$load"
}

# Endpoints compared with each other take turns, in an order that reverses every round (A B, B A, A B, ...): on a
# machine whose speed drifts during the run, both sides then meet the same conditions.
compare() { # round, then "name url mode [replay path]" per endpoint
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

# Commands the application sends, as MONITOR shows them: commands that scripts run inside Redis are marked "lua" and
# left out, and so is everything that does not touch a benchmark key.
count_commands() { # name url mode [replay path]
  local name=$1 url=$2 mode=$3 replay=${4:-}
  local requests sent
  # Not through rcli: killing a function's subshell would leave redis-cli writing.
  redis-cli -p "$redis_port" monitor > "$dir/monitor.txt" &
  local monitor=$!
  sleep 0.5
  # shellcheck disable=SC2086
  requests=$(wrk -t1 -c1 -d2s -s benchmarks/wrk/requests.lua "$url" -- "$mode" $replay | grep '^RESULT' \
    | sed 's/.*requests=\([0-9]*\).*/\1/')
  sleep 0.5
  kill $monitor
  wait $monitor 2>/dev/null || true
  sent=$(grep -v 'lua\]' "$dir/monitor.txt" | grep -c 'bench:' || true)
  echo "$name $(awk -v s="$sent" -v r="$requests" 'BEGIN { printf "%.2f", s / r }')" | tee -a "$dir/commands.txt"
}

measure() { # line: boot3 or boot4
  local line=$1
  dir="$out/$line"
  rm -rf "$dir"
  mkdir -p "$dir"
  local profile=() classes=benchmarks/target/classes
  if [[ $line == boot4 ]]; then
    profile=(-Dboot4)
    classes=benchmarks/target/boot4/classes
  fi
  echo "Building the benchmarks for $line"
  ./mvnw -q -B -ntp "${profile[@]}" -pl benchmarks -am package dependency:build-classpath -DskipTests \
    -Dmdep.outputFile="target/classpath-$line.txt"
  local classpath bare_classpath
  classpath="$classes:$(cat "benchmarks/target/classpath-$line.txt")"
  # The same application without the starter's auto-configuration jar: @Idempotent is then an annotation the JVM
  # cannot find, which it ignores, and nothing of the starter runs.
  bare_classpath=$(tr ':' '\n' <<< "$classpath" | grep -v 'idempotency-spring-boot-autoconfigure' | paste -sd:)

  rcli --scan --pattern 'bench:*' | xargs -r -n 500 redis-cli -p "$redis_port" del >/dev/null
  # The application without the starter only ever serves the plain handler, and the one with it serves every path,
  # so a third process with the starter serves the plain handler alone: the plain handler's cost in it against the
  # one without tells the starter's cost from what the other paths' traffic leaves behind in a process (the JIT's
  # profiles of shared code, the heap).
  local app bare only_plain
  app=$(start_app $port "$classpath" "$dir/app.log")
  bare=$(start_app $bare_port "$bare_classpath" "$dir/bare.log")
  only_plain=$(start_app $only_plain_port "$classpath" "$dir/only-plain.log")
  trap "kill $app $bare $only_plain 2>/dev/null || true" EXIT
  await_app $port
  await_app $bare_port
  await_app $only_plain_port
  local base="http://127.0.0.1:$port" bare_base="http://127.0.0.1:$bare_port"
  local only_plain_base="http://127.0.0.1:$only_plain_port"
  # A replay from the application without the starter would be a plain run: make sure it really has none.
  for _ in 1 2; do
    curl -s -D - -o /dev/null -X POST "$bare_base/idempotent" -H 'Idempotency-Key: bare-probe' \
      -H 'Content-Type: application/json' -d '{"name":"a","quantity":1}'
  done > "$dir/bare-probe.txt"
  if grep -qi '^Idempotent-Replayed' "$dir/bare-probe.txt"; then
    echo "The application without the starter still runs it" >&2
    exit 1
  fi

  # One record for a ~1 KB response, alone under its prefix, to read its size.
  curl -s -o /dev/null -X POST "$base/idempotent-1k" -H 'Idempotency-Key: memory-probe' \
    -H 'Content-Type: application/json' -d '{"name":"book","quantity":2}'
  local record
  record=$(rcli --scan --pattern 'bench:idem:*' | head -1)
  rcli memory usage "$record" > "$dir/record-bytes.txt"
  curl -s -X POST "$base/idempotent-1k" -H 'Idempotency-Key: memory-probe' \
    -H 'Content-Type: application/json' -d '{"name":"book","quantity":2}' | wc -c > "$dir/response-bytes.txt"

  : > "$dir/load.txt"
  : > "$dir/commands.txt"
  echo "Warming up and completing the 1,000 replay keys ($line)"
  for url in "$base/idempotent replay" "$base/floor replay" "$base/plain unique" "$bare_base/plain unique" \
    "$only_plain_base/plain unique" "$base/idempotent unique"; do
    # shellcheck disable=SC2086
    wrk -t1 -c32 -d20s -s benchmarks/wrk/requests.lua ${url% *} -- ${url#* } >/dev/null
  done

  # Round 0 is not recorded: right after the warm-up, a first round still ran up to 40% slower than the next.
  for round in $(seq 0 "$rounds"); do
    load=$dir/load.txt
    ((round > 0)) || load=/dev/null
    compare "$round" "plain-without-starter $bare_base/plain unique" "plain-with-starter $base/plain unique" \
      "plain-only-with-starter $only_plain_base/plain unique"
    compare "$round" "unique-plain $base/plain unique" "unique-floor $base/floor unique" \
      "unique-idempotent $base/idempotent unique"
    compare "$round" "replay-floor $base/floor-replay replay" "replay-idempotent $base/idempotent replay"
    compare "$round" "mixed-floor $base/floor mixed /floor-replay" "mixed-idempotent $base/idempotent mixed"
  done
  count_commands unique-floor "$base/floor" unique
  count_commands unique-idempotent "$base/idempotent" unique
  count_commands replay-floor "$base/floor-replay" replay
  count_commands mixed-floor "$base/floor" mixed /floor-replay
  count_commands replay-idempotent "$base/idempotent" replay
  count_commands mixed-idempotent "$base/idempotent" mixed
  kill $app $bare $only_plain
  wait $app $bare $only_plain 2>/dev/null || true
  trap - EXIT

  echo "Running JMH ($line)"
  # One fork per benchmark and round, the order reversing every round as for the load runs: JMH runs benchmarks one
  # after another, so without this a drift in the machine's speed would pass for a difference between them.
  local benchmarks=(plainWithoutStarter plain firstExecution firstExecutionNotKept replay conflict largePlain
    largeFirstExecution largeReplay)
  for round in $(seq 1 "$jmh_rounds"); do
    local order=("${benchmarks[@]}")
    if ((round % 2 == 0)); then
      order=()
      for ((i = ${#benchmarks[@]} - 1; i >= 0; i--)); do order+=("${benchmarks[i]}"); done
    fi
    for b in "${order[@]}"; do
      java -cp "$classpath" org.openjdk.jmh.Main "InterceptorOverheadBenchmark\.$b\$" -f 1 -prof gc -rf json \
        -rff "$dir/jmh-$b-$round.json" >> "$dir/jmh.txt" 2>&1
    done
  done
  ((jmh_rounds > 0)) || return 0
  # Merged per benchmark over its rounds: the mean of every measured iteration, ± their standard deviation.
  python3 - "$dir" <<'EOF'
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
}

# Per endpoint over all its rounds: requests per second as the mean of the rounds, latency percentiles as their
# median.
field() { # line run-name field
  python3 - "$out/$1/load.txt" "$2" "$3" <<'EOF'
import statistics, sys
path, name, field = sys.argv[1:]
runs = [dict(kv.split("=") for kv in line.split()[2:]) for line in open(path) if line.split()[0] == name]
if field == "rps":
    print("%.1f" % statistics.mean(float(r["rps"]) for r in runs))
elif field == "non2xx":
    print(sum(int(r["non2xx"]) for r in runs))
else:
    print("%.2f" % statistics.median(float(r[field]) for r in runs))
EOF
}
commands() { awk -v n="$2" '$1 == n { print $2 }' "$out/$1/commands.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
rps_ratio() { ratio "$(field "$1" "$2" rps)" "$(field "$1" "$3" rps)"; }
jmh_row() { # line benchmark metric(time|alloc)
  python3 -c "import json
for r in json.load(open('$out/$1/jmh.json')):
    if r['benchmark'].endswith('.$2'):
        m = r['primaryMetric'] if '$3' == 'time' else r['secondaryMetrics']['gc.alloc.rate.norm']
        print('%.2f ± %.2f' % (m['score'], m['scoreError']))"
}
jmh_over() { # line benchmark base metric(time|alloc): difference of the means
  [[ -f $out/$1/jmh.json ]] || { echo "not run"; return; }
  python3 -c "import json
rows = {r['benchmark'].rsplit('.', 1)[1]: r for r in json.load(open('$out/$1/jmh.json'))}
m = lambda b: rows[b]['primaryMetric']['score'] if '$4' == 'time' else rows[b]['secondaryMetrics']['gc.alloc.rate.norm']['score']
print('%.2f' % (m('$2') - m('$3')))"
}

for line in $lines; do
  measure "$line"
done

{
  echo "# Performance report"
  echo
  echo "Generated by \`benchmarks/run.sh\` on $(date -u +%Y-%m-%d)."
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(java -version 2>&1 | head -1);"
  echo "$(rcli info server | tr -d '\r' | awk -F: '/^valkey_version:/ { v = "Valkey " $2 } /^redis_version:/ { r = "Redis " $2 }
    END { print (v != "") ? v : r }') on loopback; wrk, application and Redis share the cores."
  echo "Load runs: wrk, 1 thread, 32 connections, after warm-up; $rounds rounds of ${duration} s per endpoint, each run"
  echo "after 2 s of the same load that is not recorded, the endpoints of each workload taking turns; requests/s is the"
  echo "mean of the rounds, latencies (ms) their median. Redis commands per request: MONITOR over 2 s of each path on one"
  echo "connection, commands run inside scripts left out."
  echo
  echo "## Targets"
  echo
  echo "| Ratio | $(for l in $lines; do printf '%s | ' "$l"; done)Target |"
  echo "|---|$(for _ in $lines; do printf -- '---|'; done)---|"
  row() { # label target numerator denominator
    echo "| $1 | $(for l in $lines; do printf '%s | ' "$(rps_ratio "$l" "$3" "$4")"; done)$2 |"
  }
  row "plain endpoint: with the starter / without" "≥ 0.99" plain-with-starter plain-without-starter
  row "plain endpoint, in a process serving nothing else: with the starter / without" "≥ 0.99" \
    plain-only-with-starter plain-without-starter
  row "unique keys: @Idempotent / floor" "≥ 1.00" unique-idempotent unique-floor
  row "unique keys: @Idempotent / plain" "≥ 0.49" unique-idempotent unique-plain
  row "replays: @Idempotent / floor" "" replay-idempotent replay-floor
  row "replays: @Idempotent / plain" "≥ 0.70" replay-idempotent unique-plain
  row "mixed: @Idempotent / floor" "" mixed-idempotent mixed-floor
  echo "| Redis commands: first execution / replay | $(for l in $lines; do printf '%s / %s | ' "$(commands "$l" unique-idempotent)" "$(commands "$l" replay-idempotent)"; done)2 / 1 |"
  echo "| JMH: plain endpoint, with the starter − without (µs) | $(for l in $lines; do printf '%s | ' "$(jmh_over "$l" plain plainWithoutStarter time)"; done)< 0.2 |"
  for line in $lines; do
    echo
    echo "## $line"
    echo
    echo "### Load over HTTP against Redis"
    echo
    echo "| Workload | Endpoint | Requests/s | p50 | p99 | p99.9 | Non-2xx | Redis commands per request |"
    echo "|---|---|---|---|---|---|---|---|"
    for run in plain-without-starter plain-with-starter plain-only-with-starter unique-plain unique-floor unique-idempotent replay-floor \
      replay-idempotent mixed-floor mixed-idempotent; do
      echo "| ${run%%-*} | ${run#*-} | $(field "$line" $run rps) | $(field "$line" $run p50) | $(field "$line" $run p99) | $(field "$line" $run p999) | $(field "$line" $run non2xx) | $(commands "$line" $run) |"
    done
    echo
    echo "One record holding a $(cat "$out/$line/response-bytes.txt")-byte JSON response takes"
    echo "$(cat "$out/$line/record-bytes.txt") bytes in Redis (\`MEMORY USAGE\`)."
    echo
    [[ -f $out/$line/jmh.json ]] || continue
    echo "### Interceptor cost (JMH, in-memory store, MockMvc)"
    echo
    echo "$jmh_rounds forks per benchmark, run in turns (A B, then B A); the mean of their measured iterations ± standard"
    echo "deviation. plainWithoutStarter is the plain handler of the same application with \`idempotency.enabled=false\`."
    echo
    echo "| Path | Time per request (µs) | Over plain (µs) | Allocated per request (bytes) | Over plain (bytes) |"
    echo "|---|---|---|---|---|"
    for b in plainWithoutStarter plain firstExecution firstExecutionNotKept replay conflict largePlain \
      largeFirstExecution largeReplay; do
      base=plain
      [[ $b == large* ]] && base=largePlain
      echo "| $b | $(jmh_row "$line" $b time) | $(jmh_over "$line" $b $base time) | $(jmh_row "$line" $b alloc) | $(jmh_over "$line" $b $base alloc) |"
    done
  done
} > "$report"
cat "$report"
