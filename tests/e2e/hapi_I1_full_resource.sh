#!/usr/bin/env bash
# I1 against real HAPI FHIR (tests/hapi-server, label hapi): a rest-hook
# Subscription with payload full-resource (application/fhir+json, or XML
# with CONTENT_TYPE application/fhir+xml); the LIS posts the nine original
# example cases resource by resource; HAPI's subscription module PUTs each
# matching input to {endpoint}/{Type}/{id}; every case gets its
# DiagnosticReport with the expected result, nenfhir's own writes do not
# trigger it again (I5), and HAPI's request validator accepted every write.
# Usage: hapi_I1_full_resource.sh NENFHIR CERT_DIR [CONTENT_TYPE]
source "$(dirname "$0")/lib.sh"
ctype=${3:-application/fhir+json}
e2e_init "hapi_I1_full_resource_${ctype#application/fhir+}" "$1" "$2"
e2e_start_hapi
e2e_config subscription.content_type="$ctype"
e2e_start_daemon --debug
names=()
for f in "$E2E_ROOT"/examples/fhir/*.json; do
    case $(basename "$f") in mcode-*) ;; *) names+=("$(basename "$f" .json)") ;; esac
done
mapfile -t cases < <(e2e_hapi_examples "${names[@]}")
n=${#cases[@]}
e2e_lis post "${cases[@]}" >"$E2E_DIR/post.txt"
e2e_wait_reports "$n" "" 240
e2e_check_examples "${cases[@]}"
puts=$(e2e_hapi_notifications PUT)
[ "$puts" -ge "$n" ] || e2e_fail "expected HAPI's PUT deliveries, saw $puts"
if [ "$ctype" = application/fhir+xml ]; then
    grep -q "notification PUT /Observation/.*(application/fhir+xml" "$E2E_DIR/daemon.log" ||
        e2e_fail "no XML notification was received"
fi
e2e_assert_quiet "$n"
e2e_hapi_assert_accepted
e2e_finish
e2e_pass "HAPI FHIR: $n cases posted as separate resources, $n reports as expected, $puts PUT notifications ($ctype), every write validated, no loop"
