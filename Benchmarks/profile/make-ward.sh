#!/bin/bash
# Prepares a ward for profiling: CA, D enrolled devices dev-0..dev-(D-1), gateway key, a one-metric profile, config.
set -e
W=${W:-$(cd "$(dirname "$0")/../.." && pwd)/.build-bench/release/wardgate}
D=${D:-20}
DIR=${DIR:-/tmp/wardgate-profile/ward}
PORT=${PORT:-18830}
rm -rf "$DIR"; mkdir -p "$DIR/profiles"
$W ca init --dir "$DIR/ca" --name "Prof CA" >/dev/null
for i in $(seq 0 $((D-1))); do $W device enroll --ca-dir "$DIR/ca" --keystore "$DIR/keystore" --device dev-$i >/dev/null; done
$W gateway enroll --ca-dir "$DIR/ca" --keystore "$DIR/keystore" --id gw >/dev/null
cat > "$DIR/profiles/loadpub.yml" <<P
id: loadpub-hr
description: the loadpub baseline payload {"ts","hr"}
topic: bar/wards/+/devices/{device}/vitals
format: json
timestamp: {pointer: /ts, format: epoch-ms}
metrics:
  - {pointer: /hr, mdc: MDC_PULS_RATE_NON_INV, unit: /min, range: [20, 300]}
P
cat > "$DIR/wardgate.yml" <<C
gateway: {id: gw, stateDirectory: ./state}
mqtt: {host: 127.0.0.1, port: $PORT, clientId: wardgate-prof}
profiles: {directory: ./profiles}
identity: {keystore: ./keystore}
transparencyLog: {origin: wardgate/prof, gatewayCertificate: ./keystore/gateways/gw/cert.pem, gatewayKey: ./keystore/gateways/gw/key.pem}
journal: {maxBytes: 8GiB}
C
cat > "$DIR/mosquitto.conf" <<M
listener $PORT 127.0.0.1
allow_anonymous true
persistence true
persistence_location $DIR/
max_queued_messages 0
max_inflight_messages 0
M
echo ready
