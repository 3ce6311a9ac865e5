#!/usr/bin/env bash
# check_incident.sh NIS2CTL — the incident commands as an incident manager runs them:
# open at detection, confirm awareness, deadlines from awareAt, an early-warning draft that
# lists (never invents) missing items, completion from a narrative, submission, the log.
set -uo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d /tmp/evidence-incident-XXXXXX); trap 'rm -rf "$work"' EXIT
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
expect() { # expect NAME RC_WANT RC_GOT OUTPUT REGEX
  if [ "$3" = "$2" ] && grep -qE "$5" <<<"$4"; then ok "$1"; else bad "$1: exit $3 (want $2): $4"; fi
}
s="$work/store"
"$bin" init --store "$s" >/dev/null && "$bin" tenant add --store "$s" --tenant acme >/dev/null
echo '{"completeUnavailabilityMinutes": 45, "totalUsersInUnion": 3200}' > "$work/facts.json"

out=$("$bin" incident open --store "$s" --tenant acme --id INC-7 --entity managedServiceProvider --detected-at 2026-03-28T23:30:00+01:00 --facts "$work/facts.json" --by alice 2>&1)
expect "open at detection" 0 $? "$out" "opened INC-7"
out=$("$bin" incident open --store "$s" --tenant acme --id INC-7 --entity managedServiceProvider --detected-at 2026-03-28T23:30:00+01:00 --by alice 2>&1)
expect "the same incident id cannot be opened twice" 2 $? "$out" "INC-7"
out=$("$bin" incident open --store "$s" --tenant acme --id INC-8 --entity managedServiceProvider --detected-at 2026-03-28T23:30:00 --by alice 2>&1)
expect "a timestamp without offset is refused" 2 $? "$out" "offset"
out=$("$bin" incident aware --store "$s" --tenant acme --id INC-7 --aware-at 2026-03-29T00:30:00+01:00 --by "Bob Ops" 2>&1)
expect "awareness confirmed by a person" 0 $? "$out" "."
# Across the spring DST change (29 March 2026 in the EU), 24 h stays 24 h of elapsed time.
out=$("$bin" incident show --store "$s" --tenant acme --id INC-7 2>&1)
expect "early warning due 24 h after awareAt" 0 $? "$out" "2026-03-29T23:30:00Z +earlyWarning"
expect "notification due 72 h after awareAt" 0 $? "$out" "2026-03-31T23:30:00Z +incidentNotification"
expect "criterion Art 10(a) met" 0 $? "$out" "Art 10\(a\)"
out=$("$bin" report draft --store "$s" --tenant acme --incident INC-7 --stage early-warning --lang fr --format md 2>&1)
expect "an incomplete draft exits 1 and lists what is missing" 1 $? "$out" "missing: reportingOrganisation"
grep -q "Alerte précoce\|alerte précoce" <<<"$out" && ok "French draft rendered" || bad "French draft: $out"
echo '{"reportingOrganisation": "x", "contact": "soc@muster-it.example"}' > "$work/typo.json"
out=$("$bin" incident update --store "$s" --tenant acme --id INC-7 --narrative "$work/typo.json" --by "Bob Ops" 2>&1)
expect "a misspelled narrative item is refused, not dropped" 2 $? "$out" "unknown item 'contact'"
cat > "$work/narrative.json" <<'JSON'
{"reportingOrganisation": "Muster IT-Services GmbH", "contactEmail": "soc@muster-it.example",
 "suspectedUnlawfulOrMalicious": true, "crossBorderImpact": false}
JSON
out=$("$bin" incident update --store "$s" --tenant acme --id INC-7 --narrative "$work/narrative.json" --by "Bob Ops" 2>&1)
expect "narrative added" 0 $? "$out" "."
out=$("$bin" report draft --store "$s" --tenant acme --incident INC-7 --stage early-warning --format json 2>&1)
expect "complete early-warning draft exits 0" 0 $? "$out" "Muster IT-Services GmbH"
out=$("$bin" incident submit --store "$s" --tenant acme --id INC-7 --stage early-warning --at 2026-03-29T08:00:00Z --reference BSI-2026-0042 2>&1)
expect "early warning submitted with the authority's reference" 0 $? "$out" "."
out=$("$bin" incident submit --store "$s" --tenant acme --id INC-7 --stage notification --at 2026-03-30T10:00:00Z --reference BSI-2026-0043 2>&1)
expect "notification submitted" 0 $? "$out" "."
out=$("$bin" incident show --store "$s" --tenant acme --id INC-7 2>&1)
expect "final report due one month after the real notification" 0 $? "$out" "2026-04-30T10:00:00Z +finalReport"
out=$("$bin" log verify --store "$s" --json 2>&1)
expect "every transition is in the verified, checkpointed log" 0 $? "$out" '"ok":true'
python3 - "$out" <<'PY' && ok "log holds the incident records and a checkpoint covering them" || bad "incident records in log: $out"
import json, sys
t = json.loads(sys.argv[1])["tenants"][0]
assert t["records"] >= 6 and t["latestCheckpoint"]["size"] == t["records"], t
PY
echo "check_incident: $fails failure(s)"
exit $((fails > 0))
