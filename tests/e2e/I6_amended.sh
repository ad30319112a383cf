#!/usr/bin/env bash
# I6 + I11: a report moves preliminary -> final as inputs arrive, and to
# amended when an input changes after it was final; a retracted input
# (entered-in-error) amends it again; writing nothing when nothing changed
# (I8): while nothing changes the report keeps its version.
source "$(dirname "$0")/lib.sh"
e2e_init I6_amended "$@"
e2e_start_server
e2e_config
e2e_start_daemon
e2e_lis post "$E2E_ROOT"/examples/fhir/gastric-type1.json >"$E2E_DIR/post.txt"
e2e_wait_reports 1 final,amended # amended too: an input that came after it was final
acc=$(awk '/^REPORT/ {print $2}' "$E2E_DIR/reports.txt")
v1=$(awk '/^REPORT/ {print $4}' "$E2E_DIR/reports.txt")
grep -q "grade=G1" "$E2E_DIR/reports.txt" || e2e_fail "gastric-type1 should be G1 before the amendment"
# Ki-67 1.5% -> 25%: G1 -> G3
e2e_lis amend --accession "$acc" --code 29593-1 --value 25 >/dev/null ||
    e2e_lis amend --accession "$acc" --code ki67 --value 25 >/dev/null || e2e_fail "amend failed"
# the state, not "1 amended report": that may be an earlier amendment
e2e_wait_report "$acc" amended grade=G3
v2=$(e2e_report_version "$acc")
[ "$v1" != "$v2" ] || e2e_fail "the report was not rewritten"
sleep 3
e2e_lis reports >"$E2E_DIR/reports2.txt"
v3=$(awk '/^REPORT/ {print $4}' "$E2E_DIR/reports2.txt")
[ "$v2" = "$v3" ] || e2e_fail "the report was rewritten without a change ($v2 -> $v3)"
# retract the Ki-67: grade from mitoses alone, report amended again
e2e_lis retract --accession "$acc" --code 29593-1 >/dev/null ||
    e2e_lis retract --accession "$acc" --code ki67 >/dev/null || e2e_fail "retract failed"
for i in $(seq 1 50); do
    e2e_lis reports >"$E2E_DIR/reports3.txt"
    v4=$(awk '/^REPORT/ {print $4}' "$E2E_DIR/reports3.txt")
    [ "$v4" != "$v3" ] && break
    sleep 0.3
done
[ "$v4" != "$v3" ] || e2e_fail "a retracted input did not change the report"
grep -q "amended" "$E2E_DIR/reports3.txt" || e2e_fail "after the retraction the report should stay amended"
grep -q "grade=G3" "$E2E_DIR/reports3.txt" && e2e_fail "the retracted Ki-67 is still used"
e2e_finish
e2e_pass "final -> amended (Ki-67 1.5% -> 25%: G1 -> G3) -> amended again on retraction; unchanged input writes nothing"
