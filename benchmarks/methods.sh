#!/usr/bin/env bash
# The method path's overhead, by JMH, on each Spring Boot line: a service method called through its proxy, plain and
# @Idempotent (in-memory store), first call and replay. Usage: benchmarks/methods.sh [boot3|boot4|both] [forks]
# Run it on a quiet machine, from a clone of its own: it builds the working tree.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-both}
forks=${2:-2}
[[ $lines == both ]] && lines="boot3 boot4"
out=benchmarks/target/methods
mkdir -p "$out"
for line in $lines; do
  profile=() classes=benchmarks/target/classes
  if [[ $line == boot4 ]]; then
    profile=(-Dboot4)
    classes=benchmarks/target/boot4/classes
  fi
  echo "Building the benchmarks for $line"
  ./mvnw -q -B -ntp "${profile[@]}" -pl benchmarks -am package dependency:build-classpath -DskipTests \
    -Dmdep.outputFile="target/classpath-$line.txt"
  classpath="$classes:$(cat "benchmarks/target/classpath-$line.txt")"
  java -cp "$classpath" org.openjdk.jmh.Main 'MethodOverheadBenchmark' -f "$forks" -prof gc -rf json \
    -rff "$out/$line.json" > "$out/$line.txt" 2>&1
  python3 - "$out/$line.json" "$line" <<'PY'
import json, sys
results = {r["benchmark"].rsplit(".", 1)[1]: r for r in json.load(open(sys.argv[1]))}
def row(name):
    r = results[name]
    time = r["primaryMetric"]
    alloc = r["secondaryMetrics"]["gc.alloc.rate.norm"]["score"]
    return time["score"], time["scoreError"], alloc
plain = row("plain")
print(f"{sys.argv[2]}: µs per call (± 99.9% error), bytes allocated per call, overhead over plain")
for name in ("plain", "firstCall", "replay"):
    score, error, alloc = row(name)
    print(f"  {name:10s} {score:7.3f} ± {error:.3f} µs  {alloc:8.0f} B  +{score - plain[0]:.3f} µs  +{alloc - plain[2]:.0f} B")
PY
done
