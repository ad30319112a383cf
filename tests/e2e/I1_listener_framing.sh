#!/usr/bin/env bash
# I1 (issue 12 item 7): ambiguous framing is refused (request-smuggling
# shapes). Each request below carries a valid notification (an Observation,
# Medplum style, with the right secret) that nenfhir would store, framed in
# a way two HTTP parsers may read differently; each is answered 400 with
# "Connection: close", the bytes after the body evhttp framed are never
# answered as a next request, and nothing is stored:
#   two different Content-Length headers, two equal ones, "+N", CL with
#   Transfer-Encoding: chunked, Transfer-Encoding other than "chunked", an
#   absolute-form request target.
# Then the same notification framed plainly is stored (200), so the
# refusals were for the framing.
# Before the change the first one (two Content-Length headers) was answered
# 200 and stored, and the GET smuggled after its body answered too: this
# test saw "statuses":[200,200] and stopped there.
source "$(dirname "$0")/lib.sh"
e2e_init I1_listener_framing "$@"
CLIENT=$E2E_ROOT/tests/e2e/listener_client.mjs
e2e_start_server
e2e_config
e2e_start_daemon --debug
secret=$(cat "$E2E_DIR/secret")
body='{"resourceType":"Observation","id":"frame-1","meta":{"versionId":"1"},"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/frame"},"valueQuantity":{"value":61,"unit":"/min"}}'
len=${#body}
smuggled='GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
head="Host: 127.0.0.1\\r\\nContent-Type: application/fhir+json\\r\\nX-Nenfhir-Secret: $secret\\r\\n"
jbody=${body//\"/\\\"}
send() { # NAME JSON_STRING
    "$NODE" "$CLIENT" raw --port "$E2E_LISTEN_PORT" --ca "$E2E_CERTS/ca.crt" --text "\"$2\"" >"$E2E_DIR/$1.json"
    echo "$1: $(head -c 300 "$E2E_DIR/$1.json" | tr -d '\r' | head -n 2)"
}
expect_400() { # NAME [no-header]: one 400, then closed (evhttp drops the
    # Connection header on an absolute-form request, but closes it anyway)
    grep -q '"statuses":\[400\],"closed":true' "$E2E_DIR/$1.json" ||
        e2e_fail "$1: want one 400 and the connection closed: $(cat "$E2E_DIR/$1.json")"
    [ -n "${2:-}" ] || grep -qi 'connection: close' "$E2E_DIR/$1.json" || e2e_fail "$1: no Connection: close"
}
send two_lengths "POST /notify HTTP/1.1\\r\\n${head}Content-Length: $len\\r\\nContent-Length: $((len + ${#smuggled} - 8))\\r\\n\\r\\n$jbody$smuggled"
expect_400 two_lengths
send equal_lengths "POST /notify HTTP/1.1\\r\\n${head}Content-Length: $len\\r\\nContent-Length: $len\\r\\n\\r\\n$jbody"
expect_400 equal_lengths
send plus_length "POST /notify HTTP/1.1\\r\\n${head}Content-Length: +$len\\r\\n\\r\\n$jbody$smuggled"
expect_400 plus_length
chunk=$(printf '%x' "$len")
send length_and_chunked "POST /notify HTTP/1.1\\r\\n${head}Content-Length: 4\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n$chunk\\r\\n$jbody\\r\\n0\\r\\n\\r\\n"
expect_400 length_and_chunked
send gzip_chunked "POST /notify HTTP/1.1\\r\\n${head}Transfer-Encoding: gzip, chunked\\r\\n\\r\\n$jbody$smuggled"
# (evhttp 2.1 itself refuses this one: 413, connection closed)
grep -q '"statuses":\[4[01][03]\],"closed":true' "$E2E_DIR/gzip_chunked.json" ||
    e2e_fail "gzip_chunked: want a 400 or 413 and the connection closed: $(cat "$E2E_DIR/gzip_chunked.json")"
send absolute_uri "POST https://127.0.0.1:$E2E_LISTEN_PORT/notify HTTP/1.1\\r\\n${head}Content-Length: $len\\r\\n\\r\\n$jbody"
expect_400 absolute_uri no-header
grep -q "refused a request for /notify from 127.0.0.1" "$E2E_DIR/daemon.log" || e2e_fail "no log line for a refusal"
stored=$(e2e_metric nenfhir_notifications_total)
[ "$stored" = 0 ] || e2e_fail "$stored notification(s) stored from ambiguous requests"
grep -q "notification POST / " "$E2E_DIR/daemon.log" && e2e_fail "a notification was parsed from an ambiguous request"
# (Content-Length with chunked: evhttp 2.1 itself answers 400 to this one)
framing=$(e2e_metric 'nenfhir_notifications_by_outcome_total{outcome="refused",reason="framing"}')
[ "$framing" -ge 4 ] || e2e_fail "$framing framing refusals counted, want 4 or more"
# the same notification, plainly framed, is stored
send plain "POST /notify HTTP/1.1\\r\\n${head}Content-Length: $len\\r\\nConnection: close\\r\\n\\r\\n$jbody"
grep -q '"statuses":\[200\]' "$E2E_DIR/plain.json" || e2e_fail "the plain notification was not stored: $(cat "$E2E_DIR/plain.json")"
[ "$(e2e_metric nenfhir_notifications_total)" = 1 ] || e2e_fail "the plain notification was not counted"
e2e_finish
e2e_pass "ambiguous framing refused 400 and closed, nothing stored; the same notification plainly framed stored"
