#!/usr/bin/env bash
# I8 (issue 13 item 3): server.write_mode = auto against a server whose
# CapabilityStatement announces neither conditionalUpdate nor updateCreate
# (a bare statement from a stub HTTPS server, node's https module): nenfhir
# logs what the server lacks and stops with exit status 1, in poll mode
# (its own GET metadata) and in rest-hook mode (subscribe.c's). For its
# first 5 s the stub answers GET metadata with an OperationOutcome: that
# decides nothing (no stop on a garbled answer); nenfhir asks again 30 s
# later (the poll run).
source "$(dirname "$0")/lib.sh"
e2e_init I8_write_auto_none "$@"
cat >"$E2E_DIR/stub.mjs" <<'JS'
import https from 'node:https';
import fs from 'node:fs';
const [cert, key, portFile] = process.argv.slice(2);
const cs = { resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1',
  software: { name: 'stub' }, format: ['json'],
  rest: [{ mode: 'server', resource: [{ type: 'Observation', conditionalUpdate: true, updateCreate: false }] }] };
const started = Date.now();
const oo = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient' }] };
const s = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
  const body = req.url.startsWith('/fhir/metadata') ? (Date.now() - started < 5000 ? oo : cs)
    : { resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] };
  res.writeHead(200, { 'Content-Type': 'application/fhir+json' });
  res.end(JSON.stringify(body));
});
s.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile, String(s.address().port)));
process.on('SIGTERM', () => process.exit(0));
JS
"$NODE" "$E2E_DIR/stub.mjs" "$E2E_CERTS/server.crt" "$E2E_CERTS/server.key" "$E2E_DIR/server.port" \
    >>"$E2E_DIR/server.log" 2>&1 &
E2E_SERVER_PID=$!
for i in $(seq 1 300); do [ -s "$E2E_DIR/server.port" ] && break; sleep 0.1; done
[ -s "$E2E_DIR/server.port" ] || e2e_fail "the stub server did not start"
E2E_SERVER_PORT=$(cat "$E2E_DIR/server.port")
E2E_BASE="https://127.0.0.1:$E2E_SERVER_PORT/fhir"
for mode in poll rest-hook; do
    rm -f "$E2E_DIR/nenfhir.db"*
    e2e_config subscription.mode=$mode
    rc=0
    timeout 120 "$NENFHIR" run -c "$E2E_DIR/nenfhir.conf" >"$E2E_DIR/daemon-$mode.log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || e2e_fail "$mode: nenfhir exited with $rc, not 1: $(tail -n 5 "$E2E_DIR/daemon-$mode.log")"
    ! grep -q "Sanitizer" "$E2E_DIR/daemon-$mode.log" || e2e_fail "$mode: $(grep -A20 Sanitizer "$E2E_DIR/daemon-$mode.log")"
    if [ "$mode" = poll ]; then
        grep -q "GET metadata answered a OperationOutcome, not a CapabilityStatement" "$E2E_DIR/daemon-$mode.log" &&
            grep -q "the write mode waits for a readable CapabilityStatement" "$E2E_DIR/daemon-$mode.log" ||
            e2e_fail "$mode: the OperationOutcome was not set aside: $(cat "$E2E_DIR/daemon-$mode.log")"
    fi
    grep -q "error server.write_mode = auto: the server's CapabilityStatement (software 'stub') announces neither conditionalUpdate (missing for DiagnosticReport, Provenance, Device) nor updateCreate (missing for DiagnosticReport, Observation, Provenance, Device).*set \[server\] write_mode" \
        "$E2E_DIR/daemon-$mode.log" || e2e_fail "$mode: no error naming what the server lacks: $(cat "$E2E_DIR/daemon-$mode.log")"
done
e2e_pass "auto with a server announcing neither: the missing capabilities named, exit 1 (poll and rest-hook)"
