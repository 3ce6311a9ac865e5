#!/usr/bin/env bash
# run.sh NIS2CTL [CRASH_KILLS] — the integration checks that drive the built CLI as a user
# (or a crashing host) would. Every check runs; the exit status is non-zero if any failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: run.sh NIS2CTL [CRASH_KILLS]}
kills=${2:-60}
status=0
step() { echo "== $1"; shift; "$@" || { echo "== FAILED: $*"; status=1; }; }
step "bad input, full disk" "$here/cli_errors.sh" "$bin"
step "crash test ($kills x SIGKILL)" python3 "$here/crash_test.py" "$bin" "$kills"
step "demo" "$here/../../scripts/demo.sh" "$bin"
for extra in "$here"/check_*.sh; do
  [ -e "$extra" ] && step "$(basename "$extra")" "$extra" "$bin"
done
exit $status
