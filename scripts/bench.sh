#!/usr/bin/env bash
# bench.sh BIN_DIR — runs every benchmark program of the release build. Each prints a table
# and, as its last line, one JSON object of figures (with ratios to the reference tool it
# measured in the same run). The merged figures are printed at the end and written to
# bench-out/summary.json.
set -uo pipefail
bin=${1:-.build/release}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bench-out"; mkdir -p "$out"
status=0
run() { # run NAME ARGS...
  local name=$1; shift
  if [ ! -x "$bin/$name" ]; then echo "bench: $bin/$name is missing (build with 'swift build -c release')"; status=1; return; fi
  echo; echo "=== $name"
  if "$bin/$name" "$@" | tee "$out/$name.txt"; then :; else echo "bench: $name failed"; status=1; fi
}
run evidence-bench
run reporting-bench
run time-bench
run s3-bench
for extra in pack-bench capture-bench; do [ -x "$bin/$extra" ] && run "$extra"; done
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]; merged = {}
for f in sorted(os.listdir(out)):
    if f.endswith(".txt"):
        lines = [l for l in open(os.path.join(out, f)).read().splitlines() if l.strip()]
        try: merged[f[:-4]] = json.loads(lines[-1])
        except Exception: merged[f[:-4]] = {"error": "no JSON summary line"}
json.dump(merged, open(os.path.join(out, "summary.json"), "w"), indent=1, sort_keys=True)
print("\n=== summary (bench-out/summary.json)")
print(json.dumps(merged, sort_keys=True))
PY
exit $status
