#!/bin/sh
# Starts a server, spawns N (default 1000) `sleep 3600` concurrently through one Java client
# (src/bench/SpawnMany.java), reports spawn-to-running latency p50/p99 (spawn replies come once the
# process runs), `orch ps` wall time and server-side `took`, and the server CPU at rest over 10 s.
# Usage: src/bench/ps_scale.sh [N]    (needs target/orch; report only, no assertions)
set -eu
N=${1:-1000}
ORCH=${ORCH:-$(dirname "$0")/../../target/orch}
T=$(mktemp -d)
trap 'kill "${SPID:-0}" 2>/dev/null || true; rm -rf "$T"' EXIT
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/key"
ORCH_READY_FILE="$T/ready" ORCH_HOME="$T" "$ORCH" server --listen 127.0.0.1:0 --authkey-file "$T/key" --grace 2 > "$T/server.log" 2>&1 &
i=0; while [ ! -s "$T/ready" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
ADDR=$(sed -n 1p "$T/ready"); SPID=$(sed -n 2p "$T/ready")
export ORCH_ADDRESS="$ADDR" ORCH_AUTHKEY_FILE="$T/key"
echo "server $ADDR pid $SPID, spawning $N processes"
# lib/boot too: the client logs through jboss-logging, which the fast-jar keeps there.
CP="$(dirname "$0")/../../target/classes:$(ls -d "$(dirname "$0")"/../../target/quarkus-app/lib/main/*.jar "$(dirname "$0")"/../../target/quarkus-app/lib/boot/*.jar | tr '\n' ':')"
java -cp "$CP" "$(dirname "$0")/SpawnMany.java" "$ADDR" "$T/key" "$N"
for k in 1 2 3; do
  s=$(date +%s%N); "$ORCH" ps -o json > "$T/ps.json"; e=$(date +%s%N)
  echo "orch ps wall: $(( (e - s) / 1000000 )) ms (incl. JVM start), rows: $(grep -o '"id"' "$T/ps.json" | wc -l)"
done
java -cp "$CP" "$(dirname "$0")/SpawnMany.java" "$ADDR" "$T/key" 0
ticks() { awk '{print $14+$15}' "/proc/$SPID/stat"; }
a=$(ticks); sleep 10; b=$(ticks)
HZ=$(getconf CLK_TCK)
echo "server CPU at rest over 10 s: $(awk -v d=$((b - a)) -v hz="$HZ" 'BEGIN{printf "%.2f%% of one core", 100*d/hz/10}')"
kill "$SPID"; i=0; while kill -0 "$SPID" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
echo "server stopped (children stopped with it)"
