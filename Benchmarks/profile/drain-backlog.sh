#!/bin/bash
# Drains an N-message loadpub backlog with `wardgate run` under a profiler command ($PROF), prints the drain time.
set -e
W=${W:-$(cd "$(dirname "$0")/../.." && pwd)/.build-bench/release/wardgate}; N=${N:-40000}; D=${D:-20}; DIR=${DIR:-/tmp/wardgate-profile/ward}; PORT=${PORT:-18830}
PROF=${PROF:-}
rm -rf "$DIR/state" "$DIR"/mosquitto.db
mosquitto -c "$DIR/mosquitto.conf" > "$DIR/mosquitto.log" 2>&1 & MPID=$!
sleep 0.5
# Register the gateway's persistent session, then stop it.
$W run --config "$DIR/wardgate.yml" > "$DIR/run0.log" 2>&1 & GPID=$!
for i in $(seq 1 100); do grep -q "subscri" "$DIR/run0.log" 2>/dev/null && break; sleep 0.2; done
sleep 1; kill -TERM $GPID; wait $GPID || true
${LOADPUB:-/tmp/wardgate-profile/loadpub} $PORT $N $D
echo "published $N"
START=$(date +%s.%N)
$PROF $W run --config "$DIR/wardgate.yml" > "$DIR/run.log" 2>&1 & GPID=$!
while true; do
  c=$(sqlite3 "file:$DIR/state/journal.sqlite?mode=ro" "select seq from cursor where name='observations'" 2>/dev/null || echo 0)
  [ "${c:-0}" -ge "$N" ] && break; sleep 0.25
done
END=$(date +%s.%N)
echo "drained $N in $(echo "$END - $START" | bc) s"
kill -INT $GPID; wait $GPID || true
kill $MPID; wait $MPID 2>/dev/null || true
