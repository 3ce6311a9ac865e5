#!/usr/bin/env bash
# check_demo.sh NIS2CTL — `nis2ctl demo` into a temp dir, then every output checked with the
# CLI as a user would: the outputs exist, the log and the pack verify, each draft is complete
# or lists its missing items, the file drop holds JSON + PDF with the digest the log records,
# and the KPIs are computed from the demo store.
set -euo pipefail
bin=${1:?usage: check_demo.sh NIS2CTL}
dir=$(mktemp -d /tmp/check-demo-XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "check_demo: $*" >&2; exit 1; }

start=$(date +%s)
timeout 120 "$bin" demo --dir "$dir/out" > "$dir/demo.log" 2>&1 || { cat "$dir/demo.log"; fail "nis2ctl demo failed"; }
out="$dir/out"; store="$out/store"
echo "demo ran in $(( $(date +%s) - start )) s"

for f in store/keys/checkpoint.pub session.cast evidence-pack.zip reports portal-drop; do
  [ -e "$out/$f" ] || fail "missing output $out/$f"
done
grep -q "local-clock" "$dir/demo.log" || fail "the demo does not say its time is local-clock only"
grep -qi "not third-party verifiable" "$dir/demo.log" || fail "the demo does not say the time is not third-party verifiable"
for f in "$out/evidence-pack.zip" "$out/portal-drop" "$out/reports" "$store"; do
  grep -qF "$f" "$dir/demo.log" || fail "the closing table does not name $f"
done

"$bin" log verify --store "$store" > /dev/null || fail "log verify failed on the demo store"
"$bin" pack verify "$out/evidence-pack.zip" --key "$store/keys/checkpoint.pub" > /dev/null || fail "pack verify failed"
head -1 "$out/session.cast" | python3 -c 'import json,sys; assert json.load(sys.stdin)["version"] == 2' || fail "session.cast is not asciicast v2"

# Drafts: 2 stages x (en, de) Markdown + JSON; each complete or listing what is missing.
for stage in early-warning notification; do
  for lang in en de; do [ -s "$out/reports/INC-DEMO-1-$stage.$lang.md" ] || fail "missing $stage draft in $lang"; done
  python3 - "$out/reports/INC-DEMO-1-$stage.json" <<'PY' || fail "$stage draft neither complete nor listing missing items"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["complete"] is True or len(d["missing"]) > 0, d
assert d["complete"] == (len(d["missing"]) == 0)
PY
done
grep -q "Frühwarnung" "$out/reports/INC-DEMO-1-early-warning.de.md" || fail "German early warning lacks its title"
# The CLI drafts agree (exit 0 complete, 1 with missing items listed).
set +e
"$bin" report draft --store "$store" --tenant acme-gmbh --incident INC-DEMO-1 --stage notification --format json > "$dir/cli-draft.json" 2> "$dir/cli-draft.err"
rc=$?
set -e
[ "$rc" = 0 ] || { [ "$rc" = 1 ] && grep -q "missing" "$dir/cli-draft.err"; } || fail "report draft exit $rc without a missing list"

# File drop: JSON + PDF, and the log's report.submitted record holds the JSON's digest.
json=$(ls "$out"/portal-drop/*.json | head -1)
ls "$out"/portal-drop/*_report.pdf > /dev/null || fail "no PDF in the file drop"
grep -q '"inferred": true' "$json" || fail "the BSI mapping is not marked inferred in the payload"
digest=$(sha256sum "$json" | cut -d' ' -f1)
python3 - "$store/tenants/acme-gmbh/log" "$digest" "$(basename "$json")" <<'PY' || fail "no report.submitted record with the dropped file's digest"
import glob, struct, sys, json
d, digest, name = sys.argv[1:]
found = False
for seg in sorted(glob.glob(d + "/seg-*.log")):
    b = open(seg, "rb").read(); pos = 16
    while pos + 4 <= len(b):
        (n,) = struct.unpack(">I", b[pos:pos + 4]); rec = b[pos + 4:pos + 4 + n]; pos += 4 + n + 8
        if b'"kind":"report.submitted"' in rec:
            r = json.loads(rec)["body"]
            found |= r["payloadSHA256"] == digest and r["reference"] == name
assert found
PY
"$bin" incident show --store "$store" --tenant acme-gmbh --id INC-DEMO-1 > "$dir/incident.txt" || fail "incident show failed"
grep -q "earlyWarningSubmitted" "$dir/incident.txt" || fail "the submission did not advance the incident"

# KPIs from the demo store.
"$bin" kpi --store "$store" --json > "$dir/kpi.json" || fail "kpi failed"
python3 - "$dir/kpi.json" <<'PY' || fail "kpi figures are not what the demo did"
import json, sys
t = json.load(open(sys.argv[1]))["tenants"][0]
assert t["tenant"] == "acme-gmbh"
assert t["privilegedActions"] == 3, t
assert t["actionsWithTimeAnchor"] == 0 and t["captureRatio"] == 0, t          # local clock only
assert t["actionsWithClockSampleOnly"] == 3, t
assert t["medianTimeToDraftSeconds"] is not None and t["medianTimeToDraftSeconds"] > 0, t
assert t["medianTimeToFinalSeconds"] is None, t
assert t["classificationChangesAfterReview"] == 0, t
PY
"$bin" kpi --store "$store" --tenant acme-gmbh > "$dir/kpi.txt" || fail "kpi (table) failed"
grep -q "capture ratio" "$dir/kpi.txt" || fail "kpi table lacks the capture ratio"
echo "check_demo: OK"
