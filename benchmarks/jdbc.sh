#!/usr/bin/env bash
# The JDBC store against its floor, by JMH, on PostgreSQL and MariaDB: claims/s against plain INSERTs, replays/s
# against plain SELECTs by primary key, and a first request's claim and completion against an INSERT and an UPDATE,
# all on one Hikari pool of 8 connections, 4 threads. Usage: benchmarks/jdbc.sh [postgresql|mariadb|both]
# Needs the machine's PostgreSQL (127.0.0.1:5432, user postgres, database test) and MariaDB (127.0.0.1:3306, root,
# database test). Run it on a quiet machine, from a clone of its own: it builds the working tree.
set -euo pipefail
cd "$(dirname "$0")/.."
databases=${1:-both}
[[ $databases == both ]] && databases="postgresql mariadb"
out=benchmarks/target/jdbc
mkdir -p "$out"
./mvnw -q -B -ntp -pl benchmarks -am package dependency:build-classpath -DskipTests \
  -Dmdep.outputFile=target/classpath-boot3.txt
classpath="benchmarks/target/classes:$(cat benchmarks/target/classpath-boot3.txt)"
for database in $databases; do
  case $database in
    postgresql) url="jdbc:postgresql://127.0.0.1:5432/test?user=postgres" ;;
    mariadb) url="jdbc:mariadb://127.0.0.1:3306/test?user=root" ;;
  esac
  java -cp "$classpath" org.openjdk.jmh.Main 'JdbcStoreBenchmark' -jvmArgsAppend "-Djdbc.url=$url" -rf json \
    -rff "$out/$database.json" > "$out/$database.txt" 2>&1
  python3 - "$out/$database.json" "$database" <<'PY'
import json, sys
results = {r["benchmark"].rsplit(".", 1)[1]: r["primaryMetric"] for r in json.load(open(sys.argv[1]))}
print(f"{sys.argv[2]}: operations/s, 4 threads (± 99.9% error), and against the floor")
for store, floor in (("claim", "floorInsert"), ("replay", "floorSelect"), ("claimAndComplete", "floorInsertAndUpdate")):
    s, f = results[store], results[floor]
    print(f"  {store:17s} {s['score']:9.0f} ± {s['scoreError']:6.0f}   {floor:21s} {f['score']:9.0f} ± {f['scoreError']:6.0f}"
          f"   {s['score'] / f['score']:.2f} of the floor")
PY
done
