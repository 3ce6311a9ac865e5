#!/usr/bin/env bash
# run-tests.sh — runs each test target in turn (tests inside a target run in parallel).
# Running every target at once on a 2-core machine starts every peer at once (chrony,
# SeaweedFS, OIDC and SAML IdPs, the TSA) and starves them; one target at a time keeps
# the peers responsive while the whole run stays a few minutes. Exit non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
targets=$(swift package dump-package | python3 -c 'import json,sys; print(" ".join(t["name"] for t in json.load(sys.stdin)["targets"] if t["type"] == "test"))')
failed=()
for t in $targets; do
  echo "=== $t"
  start=$(date +%s)
  if swift test --skip-build --filter "^$t\." 2>&1 | tee "/tmp/test-$t.log" | grep -E "^(✘|✔ Test run|✘ Test run)|error:" ; then :; fi
  if grep -qE "✘ Test run|error: " "/tmp/test-$t.log" || ! grep -qE "✔ Test run with [1-9]" "/tmp/test-$t.log"; then
    failed+=("$t")
  fi
  echo "=== $t: $(( $(date +%s) - start )) s"
done
if [ ${#failed[@]} -gt 0 ]; then echo "FAILED test targets: ${failed[*]} (full output in /tmp/test-<target>.log)"; exit 1; fi
echo "all test targets passed"
