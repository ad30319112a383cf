# I8_write_common.sh - issue 13 item 3 (I8 idempotent writes, I14 ordered
# writes, I11 amended), sourced by I8_write_conditional.sh,
# I8_write_client_id.sh, hapi_I8_write_conditional.sh and
# hapi_I8_write_client_id.sh after lib.sh's e2e_init, with
#   WM_MODE   conditional (server.write_mode left at auto: it must pick
#             conditional from the CapabilityStatement) | client-id (set)
#   WM_HAPI   1: the real HAPI FHIR server (label hapi), else the Node one.
# Eight examples go in; their reports must say what the .expected files
# say; every resource nenfhir wrote is there once per business identity
# (check_identifiers.mjs); an amendment rewrites the same DiagnosticReport
# (same id, new version); a restart and a re-post of a case write no
# duplicate; the write mode is logged once with its reason and shown in
# /metrics.

wm_names=(gastric-type1 gastric-type3 pancreas-liver-mets ileum-mesenteric-mass
          lung-atypical-carcinoid thymus-net gastric-nec minen)

# wm_identities: check_identifiers.mjs on the server; its JSON into
# $E2E_DIR/identities.json; fails on a duplicate.
wm_identities() {
    "$NODE" "$E2E_ROOT/tests/e2e/check_identifiers.mjs" --base "$E2E_BASE" --ca "$E2E_CERTS/ca.crt" \
        >"$E2E_DIR/identities.json" 2>&1 ||
        e2e_fail "duplicate writes: $(cat "$E2E_DIR/identities.json")"
}

# wm_count TYPE: resources of TYPE nenfhir wrote (from the last wm_identities).
wm_count() {
    "$NODE" -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(j[process.argv[2]].count)' \
        "$E2E_DIR/identities.json" "$1"
}

# wm_report_id ACCESSION: the server id of the report for ACCESSION.
wm_report_id() {
    e2e_lis reports --json | "$NODE" -e '
        let s="";process.stdin.on("data",(c)=>s+=c).on("end",()=>{
          for (const l of s.split("\n").filter(Boolean)) { const r=JSON.parse(l);
            if (r.identifier===process.argv[1]) { console.log(r.id); return; } }
          console.log("-"); });' "$1"
}

# wm_wait_log REGEX [TIMEOUT]: until daemon.log has a line matching REGEX.
wm_wait_log() {
    local deadline=$((SECONDS + ${2:-120}))
    until grep -Eq "$1" "$E2E_DIR/daemon.log"; do
        [ "$SECONDS" -lt "$deadline" ] || e2e_fail "no log line matching '$1' within ${2:-120} s"
        sleep 0.5
    done
}

wm_run() {
    local want=$WM_MODE files=() n
    if [ "${WM_HAPI:-}" = 1 ]; then
        e2e_start_hapi
        mapfile -t files < <(e2e_hapi_examples "${wm_names[@]}")
    else
        e2e_start_server
        for n in "${wm_names[@]}"; do files+=("$E2E_ROOT/examples/fhir/$n.json"); done
    fi
    if [ "$want" = client-id ]; then
        e2e_config server.write_mode=client-id work.preliminary_after=60s
    else
        e2e_config work.preliminary_after=60s # server.write_mode: auto (the default)
    fi
    e2e_start_daemon --debug
    # the choice: logged once, with its reason; in /metrics
    wm_wait_log "write mode $want"
    [ "$(grep -c "write mode $want" "$E2E_DIR/daemon.log")" = 1 ] || e2e_fail "the write mode was not logged once"
    if [ "$want" = conditional ]; then
        grep -q "write mode conditional.*server.write_mode = auto: the server's CapabilityStatement .* announces conditionalUpdate" \
            "$E2E_DIR/daemon.log" || e2e_fail "auto did not give its reason for conditional"
    fi
    [ "$(e2e_metric "nenfhir_write_mode{mode=\"$want\"}")" = 1 ] || e2e_fail "/metrics does not show write mode $want"

    e2e_lis post "${files[@]}" >"$E2E_DIR/post.txt"
    e2e_wait_reports "${#files[@]}" "" 240
    E2E_CHECK_TIMEOUT=180 e2e_check_examples "${files[@]}"
    wm_identities
    [ "$(wm_count DiagnosticReport)" = "${#files[@]}" ] || e2e_fail "$(wm_count DiagnosticReport) reports for ${#files[@]} cases"
    [ "$(wm_count Device)" = 1 ] || e2e_fail "$(wm_count Device) Devices: $(cat "$E2E_DIR/identities.json")"
    local obs1
    obs1=$(wm_count Observation)
    echo "written: $(cat "$E2E_DIR/identities.json")"

    # an amendment rewrites the same DiagnosticReport (I11)
    local acc id1 id2 v1 v2 # gastric-type1's accession (a shared HAPI's tenant adds a suffix)
    acc=$(grep -o '"value": *"S26-004711[0-9-]*"' "${files[0]}" | head -n 1 | grep -o 'S26-004711[0-9-]*')
    e2e_wait_report "$acc" final,amended grade=G1
    id1=$(wm_report_id "$acc")
    v1=$(e2e_report_version "$acc")
    e2e_lis amend --accession "$acc" --code 29593-1 --value 25 >/dev/null ||
        e2e_lis amend --accession "$acc" --code ki67 --value 25 >/dev/null || e2e_fail "amend failed"
    e2e_wait_report "$acc" amended grade=G3
    id2=$(wm_report_id "$acc")
    v2=$(e2e_report_version "$acc")
    [ "$id1" = "$id2" ] && [ "$v1" != "$v2" ] || e2e_fail "the amendment wrote DiagnosticReport/$id2 v$v2, not a new version of $id1 (v$v1)"
    wm_identities
    [ "$(wm_count DiagnosticReport)" = "${#files[@]}" ] || e2e_fail "the amendment added a report"
    [ "$(wm_count Observation)" = "$obs1" ] || e2e_fail "the amendment added result Observations: $obs1 then $(wm_count Observation)"

    # restart on the same store, then a case posted again (new inputs, same
    # accession): its report is rewritten in place, nothing duplicated (I8)
    e2e_kill_daemon TERM
    e2e_start_daemon --debug
    wm_wait_log "write mode $want" 120
    local v3 v4 acc3
    acc3=$(grep -o '"value": *"S[0-9-]*"' "${files[1]}" | head -n 1 | grep -o 'S[0-9-]*')
    v3=$(e2e_report_version "$acc3")
    e2e_lis post "${files[1]}" >"$E2E_DIR/post2.txt"
    local deadline=$((SECONDS + 180))
    while v4=$(e2e_report_version "$acc3"); [ "$v4" = "$v3" ]; do
        [ "$SECONDS" -lt "$deadline" ] || e2e_fail "the re-posted case $acc3 was not rewritten (v$v3)"
        sleep 0.5
    done
    E2E_CHECK_TIMEOUT=180 e2e_check_examples "${files[@]:1}" # [0]: amended above
    wm_identities
    [ "$(wm_count DiagnosticReport)" = "${#files[@]}" ] || e2e_fail "a restart or re-post added a report"
    [ "$(wm_count Observation)" = "$obs1" ] || e2e_fail "a restart or re-post added result Observations: $obs1 then $(wm_count Observation)"
    [ "$(wm_count Device)" = 1 ] || e2e_fail "a restart added a Device"
    echo "after amendment, restart and re-post: $(cat "$E2E_DIR/identities.json")"
}
