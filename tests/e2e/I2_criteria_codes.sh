#!/usr/bin/env bash
# I2 + I5 (issue 11 item 3, only what matters wakes a case): nenfhir's
# Subscriptions carry the input codes of its tables and, on a server whose
# software evaluates it, _tag:not=nenfhir's own tag.
#  1. nenfhir's own writes (the report, its result Observations) are never
#     delivered back to it;
#  2. an Observation whose code is no input (a heart rate of the same
#     patient) is not delivered; when a catch-up reads it anyway, it is not
#     kept and queues nothing: the report is not rewritten.
source "$(dirname "$0")/lib.sh"
e2e_init I2_criteria_codes "$@"
e2e_start_server
e2e_config
e2e_start_daemon --debug # the intake lines show what queued a case
grep -q "subscription criteria exclude nenfhir's own writes (_tag:not)" "$E2E_DIR/daemon.log" ||
    e2e_fail "the criteria do not exclude nenfhir's own writes on this server"
e2e_lis post "$E2E_ROOT"/examples/fhir/gastric-type1.json >"$E2E_DIR/post.txt"
e2e_check_examples "$E2E_ROOT"/examples/fhir/gastric-type1.json
acc=$(grep -o "accession=[^ ]*" "$E2E_DIR/post.txt" | head -1 | cut -d= -f2)
patient=$(grep -o "patient=[^ ]*" "$E2E_DIR/post.txt" | head -1 | cut -d= -f2)
fhir() { curl -sS --max-time 10 --cacert "$E2E_CERTS/ca.crt" "$@"; }
ids() { # the Type/id of every entry of a search Bundle on stdin
    "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const e of JSON.parse(s).entry??[])console.log(e.resource.resourceType+"/"+e.resource.id)})'
}
tag="https://nenfhir.org/fhir/CodeSystem/meta-tag%7Cnenfhir-generated"
{
    fhir "$E2E_BASE/Observation?_tag=$tag&_count=200" | ids
    fhir "$E2E_BASE/DiagnosticReport?_tag=$tag&_count=200" | ids
} >"$E2E_DIR/own.txt"
[ "$(wc -l <"$E2E_DIR/own.txt")" -ge 2 ] || e2e_fail "nenfhir's own resources not found: $(cat "$E2E_DIR/own.txt")"
# 1. none of nenfhir's own resources was delivered to it
e2e_control deliveries >"$E2E_DIR/deliveries.json"
own_delivered=$("$NODE" -e '
const fs = require("fs");
const own = new Set(fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean));
const recs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
console.log(recs.filter((r) => own.has(r.type)).map((r) => r.type).join(" "));' \
    "$E2E_DIR/own.txt" "$E2E_DIR/deliveries.json")
[ -z "$own_delivered" ] || e2e_fail "nenfhir's own writes were delivered to it: $own_delivered"
grep -q '"type":"Observation/' "$E2E_DIR/deliveries.json" ||
    e2e_fail "no delivery of an input Observation recorded: nothing to compare with"
# 2. a heart rate of the same patient: no input
v1=$(e2e_report_version "$acc")
c0=$(e2e_metric nenfhir_catchups_total)
cat >"$E2E_DIR/hr.json" <<EOF
{"resourceType":"Observation","status":"final",
 "code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}]},
 "subject":{"reference":"$patient"},"effectiveDateTime":"2026-11-30T08:00:00Z",
 "valueQuantity":{"value":72,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}
EOF
hr=$(fhir -X POST -H 'Content-Type: application/fhir+json' --data-binary @"$E2E_DIR/hr.json" \
    "$E2E_BASE/Observation" | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log("Observation/"+JSON.parse(s).id))')
[ "$hr" != "Observation/undefined" ] || e2e_fail "the heart rate could not be posted"
kill -HUP "$E2E_DAEMON_PID" # catch up now: the round reads the heart rate
for _ in $(seq 1 150); do
    [ "$(e2e_metric nenfhir_catchups_total)" -gt "$c0" ] && break
    sleep 0.2
done
[ "$(e2e_metric nenfhir_catchups_total)" -gt "$c0" ] || e2e_fail "no catch-up round completed after SIGHUP"
[ "$(e2e_metric nenfhir_inputs_not_kept_total)" -ge 1 ] || e2e_fail "the catch-up did not read the heart rate as no input"
e2e_control deliveries | grep -q "\"type\":\"$hr\"" && e2e_fail "the heart rate was delivered: the criteria do not carry the input codes"
grep -q "$hr changed: case" "$E2E_DIR/daemon.log" && e2e_fail "the heart rate queued its case"
e2e_assert_quiet 1
v2=$(e2e_report_version "$acc")
[ "$v1" = "$v2" ] || e2e_fail "the report was rewritten after the heart rate (version $v1 -> $v2)"
e2e_finish
e2e_pass "own writes not delivered back ($(wc -l <"$E2E_DIR/own.txt") own resources); a heart rate neither delivered nor kept nor queued (report stays at version $v1)"
