#!/usr/bin/env bash
# check_grants.sh NIS2CTL — the grant commands as an operator uses them: request, refused
# self-approval, approval, activation, revocation, listing, a cross-tenant attempt, and the
# access.denied records those refusals leave in the logs (read back with 'log verify').
set -uo pipefail
bin=${1:?usage: check_grants.sh NIS2CTL}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
S=$work/store; fails=0
ok()   { echo "ok   $1"; }
bad()  { echo "FAIL $1"; fails=$((fails + 1)); }
expect() {  # expect STATUS DESCRIPTION -- command...
  local want=$1 what=$2; shift 3
  "$@" > "$work/out" 2> "$work/err"; local got=$?
  if [ "$got" = "$want" ]; then ok "$what (exit $got)"; else bad "$what: exit $got, wanted $want: $(cat "$work/err")"; fi
}
"$bin" init --store "$S" --origin grants.test > /dev/null || { echo "FAIL init"; exit 1; }
"$bin" tenant add --store "$S" --tenant acme > /dev/null && "$bin" tenant add --store "$S" --tenant globex > /dev/null
T=(--store "$S" --tenant acme)

expect 0 "tech requests 30 min of domain-admin" -- "$bin" grant request "${T[@]}" --as tech --target dc01 --role domain-admin --ticket CHG-1 --duration 30m
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/out")
expect 2 "a duration over the 4 h policy maximum is refused" -- "$bin" grant request "${T[@]}" --as tech --target dc01 --role x --ticket CHG-2 --duration 5h
expect 2 "the requester cannot approve their own request" -- "$bin" grant approve "${T[@]}" --as tech --with-roles approver --id "$id"
grep -q "own request" "$work/err" && ok "the refusal names the reason" || bad "reason missing: $(cat "$work/err")"
expect 2 "a principal of globex cannot approve in acme" -- "$bin" grant approve --store "$S" --tenant globex --as boss --with-roles approver --id "$id"
echo '{"subject":"boss","issuer":"local","tenant":"globex","assurance":"mfa","roles":["approver"]}' > "$work/globex-boss.json"
expect 2 "a globex principal file used against acme is refused" -- "$bin" grant approve "${T[@]}" --principal "$work/globex-boss.json" --id "$id"
expect 0 "an approver approves" -- "$bin" grant approve "${T[@]}" --as anna --with-roles approver --id "$id"
expect 0 "the requester activates" -- "$bin" grant activate "${T[@]}" --as tech --id "$id"
grep -q '"state":"active"' "$work/out" && ok "grant is active" || bad "grant not active: $(cat "$work/out")"
expect 0 "an admin revokes" -- "$bin" grant revoke "${T[@]}" --as root --with-roles admin --id "$id" --reason "change done"
expect 0 "an auditor lists the grants" -- "$bin" grant list "${T[@]}" --as audrey --with-roles auditor
[ "$(grep -c '"state":"revoked"' "$work/out")" = 1 ] && ok "list shows the revoked grant" || bad "list: $(cat "$work/out")"
expect 2 "an unknown option is a usage error" -- "$bin" grant list "${T[@]}" --as x --bogus 1

expect 0 "acme's log verifies" -- "$bin" log verify --store "$S" --tenant acme
d_acme=$("$bin" log cat --store "$S" --tenant acme | grep -c '"kind":"access.denied"')
d_globex=$("$bin" log cat --store "$S" --tenant globex | grep -c '"kind":"access.denied"')
# acme: over-long duration, self-approval, the globex principal's attempt. globex: the unknown
# grant looked up in globex itself, and the home copy of the cross-tenant attempt.
[ "$d_acme" = 3 ] && ok "acme's log holds its 3 refusals" || bad "acme's log holds $d_acme access.denied records, wanted 3"
[ "$d_globex" = 2 ] && ok "globex's log holds 2 refusals, one the home copy of the cross-tenant attempt" || bad "globex's log holds $d_globex access.denied records, wanted 2"
[ "$fails" = 0 ]
