#!/usr/bin/env bash
# nts-server.sh start|stop STATE_DIR   (CA cert: STATE_DIR/ca.crt)
# Env: NTP_PORT (11123), NTSKE_PORT (14460), READY_TIMEOUT (10 s),
#      CERT_SAN (subjectAltName of the server certificate; default DNS:localhost,IP:127.0.0.1,IP:::1)
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?state dir}
NTP_PORT=${NTP_PORT:-11123}; NTSKE_PORT=${NTSKE_PORT:-14460}; READY_TIMEOUT=${READY_TIMEOUT:-10}
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)

make_certs() {
  [ -s "$dir/server.crt" ] && return 0
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" -subj "/CN=Test NTS CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=localhost" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=${CERT_SAN:-DNS:localhost,IP:127.0.0.1,IP:::1}" > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 3650 -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
}

write_conf() {
  mkdir -p "$dir/run"; chmod 700 "$dir/run"
  cat > "$dir/chronyd.conf" <<CONF
user root
port $NTP_PORT
bindaddress 127.0.0.1
bindaddress ::1
allow 127.0.0.1
allow ::1
local stratum 10
ntsport $NTSKE_PORT
ntsserverkey $dir/server.key
ntsservercert $dir/server.crt
ntsdumpdir $dir/run
ntsprocesses 1
cmdport 0
bindcmdaddress $dir/run/chronyd.sock
pidfile $dir/run/chronyd.pid
CONF
}

alive() {  # a killed daemon reparented to a non-reaping PID 1 lingers as a zombie: treat Z as dead
  local st; st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n "$st" && "$st" != Z* ]]
}

# With a custom CERT_SAN the name check is the test's business; readiness needs only TLS + ALPN.
verify_args=(-verify_hostname localhost -verify_return_error)
[ -n "${CERT_SAN:-}" ] && verify_args=(-verify_return_error)
ke_ready() {  # a real TLS 1.3 handshake that selects ALPN ntske/1 (a bare TCP connect is not enough)
  timeout 2 openssl s_client -connect "127.0.0.1:$NTSKE_PORT" -alpn ntske/1 -tls1_3 \
    -CAfile "$dir/ca.crt" "${verify_args[@]}" </dev/null 2>/dev/null \
    | grep -q '^ALPN protocol: ntske/1'
}

case $cmd in
start)
  command -v chronyd >/dev/null || { echo "chronyd missing: apt-get install -y chrony" >&2; exit 1; }
  make_certs; write_conf
  t0=$(date +%s%N)
  chronyd -x -d -f "$dir/chronyd.conf" >"$dir/chronyd.log" 2>&1 &   # -x: never touch the clock
  echo $! > "$dir/pid"
  for _ in $(seq 1 $((READY_TIMEOUT * 10))); do
    if ke_ready; then
      echo "ready after $(( ($(date +%s%N) - t0) / 1000000 )) ms (pid $(cat "$dir/pid"))"; exit 0
    fi
    alive "$(cat "$dir/pid")" || { echo "chronyd died:" >&2; cat "$dir/chronyd.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "NTS-KE not ready after ${READY_TIMEOUT}s" >&2; cat "$dir/chronyd.log" >&2; exit 1 ;;
stop)
  [ -f "$dir/pid" ] || exit 0
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$dir/pid"; echo "stopped" ;;
*) echo "usage: $0 start|stop STATE_DIR" >&2; exit 2 ;;
esac
