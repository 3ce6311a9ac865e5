#!/usr/bin/env bash
# check_recorder_service.sh NIS2CTL — `nis2ctl recorder serve` with several
# `nis2ctl record --recorder` processes recording sessions of one tenant at once, and the
# service taken away under them: SIGKILL, SIGSTOP (a stall), SIGTERM, garbage on its socket.
# Every session must end fail-closed within its bound, telling the user why, and the log
# must verify with every confirmed event exported.
set -uo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d /tmp/evidence-svc-XXXXXX)
sock=$work/rec.sock
fails=0
pids=()
cleanup() { for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done; chmod -R u+w "$work"; rm -rf "$work"; }
trap cleanup EXIT
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
serve() { # serve → starts the service in the background, waits for its socket
  "$bin" recorder serve --store "$work/s" --socket "$sock" --durability-ms 1500 --chunk-ms 100 2>>"$work/serve.log" &
  svc=$!; pids+=("$svc")
  for _ in $(seq 100); do [ -S "$sock" ] && return 0; sleep 0.05; done
  bad "the service did not open its socket: $(cat "$work/serve.log")"; return 1
}
lines() { # lines N → a command printing N numbered lines, 20 ms apart
  echo "for i in \$(seq 1 $1); do echo \"line \$i of \$\$\"; sleep 0.02; done"
}

"$bin" init --store "$work/s" >/dev/null && "$bin" tenant add --store "$work/s" --tenant acme >/dev/null || { bad "store set-up"; exit 1; }
serve || exit 1
mode=$(stat -c %a "$sock")
[ "$mode" = 600 ] && ok "the socket is owner-only (mode $mode)" || bad "socket mode $mode, want 600"

# Four sessions of one tenant at once.
for n in 1 2 3 4; do
  "$bin" record --recorder "$sock" --tenant acme --session many-$n -- sh -c "$(lines 40)" </dev/null >"$work/many-$n.out" 2>"$work/many-$n.err" &
  rec[$n]=$!
done
all=0
for n in 1 2 3 4; do wait "${rec[$n]}" || all=1; done
[ $all = 0 ] && ok "4 concurrent sessions of tenant acme ended with status 0" || bad "a concurrent session failed: $(cat "$work"/many-*.err)"
for n in 1 2 3 4; do
  out=$("$bin" recording export --store "$work/s" --tenant acme --session many-$n -o "$work/many-$n.cast" 2>&1)
  got=$(grep -c '"line [0-9]* of' "$work/many-$n.cast")
  [ "$got" = 40 ] && grep -q "line 40 of" "$work/many-$n.cast" || { bad "session many-$n exported $got of 40 lines: $out"; continue; }
  [ "$n" = 4 ] && ok "every session's export holds its 40 lines"
done
out=$("$bin" record --store "$work/s" --tenant acme -- true </dev/null 2>&1)
[ $? = 3 ] && grep -q "another process is writing the log" <<<"$out" && ok "record --store is refused while the service holds the store" || bad "record --store beside the service: $out"
out=$("$bin" record --recorder "$sock" --tenant globex -- true </dev/null 2>&1)
[ $? != 0 ] && grep -q "unknown tenant 'globex'" <<<"$out" && ok "an unknown tenant is refused by the service, named" || bad "unknown tenant: $out"
out=$("$bin" record --recorder "$sock" --store "$work/s" --tenant acme -- true </dev/null 2>&1)
[ $? = 2 ] && grep -q "either --store DIR" <<<"$out" && ok "--recorder with --store is a usage error" || bad "both: $out"

# Garbage on the socket: answered, and the service goes on.
reply=$(python3 - "$sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"\x01\x7f\xff\xff\xff"); s.settimeout(5)
print(s.recv(4096)[5:].decode(errors="replace"))
PY
)
grep -q "outside its bound" <<<"$reply" && ok "an oversized frame is refused with the reason" || bad "oversized frame: $reply"
"$bin" record --recorder "$sock" --tenant acme --session after-garbage -- echo fine </dev/null >/dev/null 2>&1 && ok "the service records after the garbage" || bad "no session after the garbage"

# A stall: the service stops (SIGSTOP); the session ends within the bound, the user is told.
"$bin" record --recorder "$sock" --tenant acme --session stalled -- sh -c "$(lines 1000)" </dev/null >"$work/stalled.out" 2>"$work/stalled.err" &
r=$!; sleep 1
kill -STOP "$svc"; t0=$(date +%s.%N)
wait $r; st=$?; t1=$(date +%s.%N)
kill -CONT "$svc"
took=$(python3 -c "print(round($t1 - $t0, 2))")
[ $st = 3 ] && grep -q "not confirmed durable by the recorder service within" "$work/stalled.err" && python3 -c "import sys; sys.exit(0 if $took < 4 else 1)" \
  && ok "a stalled service ends the session fail-closed in ${took} s (bound 1.5 s), the user is told why" \
  || bad "stall: status $st after ${took} s: $(tail -2 "$work/stalled.err")"

# SIGKILL: the relay notices at once.
"$bin" record --recorder "$sock" --tenant acme --session killed -- sh -c "$(lines 1000)" </dev/null >"$work/killed.out" 2>"$work/killed.err" &
r=$!; sleep 1
kill -9 "$svc"; wait "$svc" 2>/dev/null
wait $r; st=$?
[ $st = 3 ] && grep -qE "closed the connection|connection to the recorder service failed" "$work/killed.err" && ok "a killed service ends the session fail-closed" || bad "kill: status $st: $(tail -2 "$work/killed.err")"
rm -f "$sock"

# SIGTERM: open sessions are ended and their users told; the service exits 0.
serve || exit 1
"$bin" record --recorder "$sock" --tenant acme --session terminated -- sh -c "$(lines 1000)" </dev/null >"$work/term.out" 2>"$work/term.err" &
r=$!; sleep 1
kill -TERM "$svc"; wait "$svc"; sst=$?
wait $r; st=$?
[ $sst = 0 ] && [ $st = 3 ] && grep -q "recorder service was stopped" "$work/term.err" && ok "SIGTERM ends open sessions (user told), the service exits 0" || bad "term: service $sst, record $st: $(tail -2 "$work/term.err")"

# Nothing confirmed was lost: the log verifies; each interrupted session's evidence holds
# its lines from the first on, without a hole (what the user saw in the last durability
# bound before the stop may be missing: it was shown, not yet confirmed).
out=$("$bin" log verify --store "$work/s" --tenant acme 2>&1)
[ $? = 0 ] && ok "the log verifies after SIGSTOP, SIGKILL and SIGTERM of the service" || bad "log verify: $out"
for s in stalled killed terminated; do
  "$bin" recording export --store "$work/s" --tenant acme --session $s -o "$work/$s.cast" >/dev/null 2>&1 || { bad "export of $s"; continue; }
  shown=$(grep -c "^line [0-9]* of" "$work/${s/terminated/term}.out")
  if python3 - "$work/$s.cast" <<'PY'
import json, re, sys
nums = [int(m) for l in open(sys.argv[1]).read().splitlines()[1:] for m in re.findall(r"line (\d+) of", json.loads(l)[2])]
sys.exit(0 if nums and nums == list(range(1, len(nums) + 1)) else 1)
PY
  then ok "$s: the evidence holds lines 1..$(grep -o 'line [0-9]* of' "$work/$s.cast" | tail -1 | cut -d' ' -f2) without a hole ($shown shown to the user)"
  else bad "$s: the evidence's lines are not 1..n"; fi
done
echo "check_recorder_service: $fails failure(s)"
[ $fails = 0 ]
