#!/usr/bin/env bash
# issue 14 item 7: `check-config --connect` against the test server (each
# step ok; a wrong CA fails at TLS; a wrong token fails at auth), and SIGHUP:
# the log level raised to debug and another token file take effect
# ("reloaded", debug lines follow); a broken config is refused and the
# daemon keeps working (an example posted, its report written).
source "$(dirname "$0")/lib.sh"
e2e_init I14_config_reload "$@"
printf 'e2e-bearer-token-reload-0123456789\n' >"$E2E_DIR/token"
printf 'e2e-bearer-token-reload-0123456789\n' >"$E2E_DIR/token2"
printf 'a-wrong-token-0123456789\n' >"$E2E_DIR/wrong-token"
chmod 600 "$E2E_DIR"/token "$E2E_DIR"/token2 "$E2E_DIR"/wrong-token
e2e_start_server --token-file "$E2E_DIR/token"
e2e_lis() {
    local cmd=$1
    shift
    "$NODE" "$E2E_SERVER_DIR/lis.mjs" "$cmd" --base "$E2E_BASE" --ca "$E2E_CERTS/ca.crt" \
        --token-file "$E2E_DIR/token" "$@"
}
e2e_config server.token_file="$E2E_DIR/token"
"$NENFHIR" check-config --connect "$E2E_DIR/nenfhir.conf" >"$E2E_DIR/connect.out" 2>&1 ||
    { cat "$E2E_DIR/connect.out"; e2e_fail "check-config --connect failed"; }
for step in "DNS: resolved to 127.0.0.1" "TCP: connected" "TLS: handshake done" \
    "HTTP: GET metadata answered 200" "FHIR: version 4.0" "software: " "auth: .*with the bearer token"; do
    grep -q "^ok      $step" "$E2E_DIR/connect.out" || { cat "$E2E_DIR/connect.out"; e2e_fail "no ok line '$step'"; }
done
cp "$E2E_DIR/nenfhir.conf" "$E2E_DIR/good.conf"
# a wrong CA: fails at TLS
sed "s|^ca_file = .*|ca_file = $E2E_CERTS/other-ca.crt|" "$E2E_DIR/good.conf" >"$E2E_DIR/wrong-ca.conf"
if "$NENFHIR" check-config --connect "$E2E_DIR/wrong-ca.conf" >"$E2E_DIR/connect.out" 2>&1; then
    e2e_fail "a wrong CA passed --connect"
fi
grep -q "^error   TLS: " "$E2E_DIR/connect.out" || { cat "$E2E_DIR/connect.out"; e2e_fail "wrong CA not reported at TLS"; }
# a wrong token: fails at auth
sed "s|^token_file = .*|token_file = $E2E_DIR/wrong-token|" "$E2E_DIR/good.conf" >"$E2E_DIR/wrong-token.conf"
if "$NENFHIR" check-config --connect "$E2E_DIR/wrong-token.conf" >"$E2E_DIR/connect.out" 2>&1; then
    e2e_fail "a wrong token passed --connect"
fi
grep -q "^ok      TLS: " "$E2E_DIR/connect.out" && grep -q "^error   auth: .*401.*refused the bearer token" "$E2E_DIR/connect.out" ||
    { cat "$E2E_DIR/connect.out"; e2e_fail "wrong token not reported at auth"; }

# SIGHUP: debug level and another token file
e2e_start_daemon
grep -q " debug " "$E2E_DIR/daemon.log" && e2e_fail "debug lines before the reload"
sed -e "s|^token_file = .*|token_file = $E2E_DIR/token2|" "$E2E_DIR/good.conf" >"$E2E_DIR/nenfhir.conf"
printf '[log]\nlevel = debug\n' >>"$E2E_DIR/nenfhir.conf"
kill -HUP "$E2E_DAEMON_PID"
for _ in $(seq 1 50); do grep -q "SIGHUP: configuration reloaded" "$E2E_DIR/daemon.log" && break; sleep 0.2; done
grep -q "SIGHUP: configuration reloaded: log level debug" "$E2E_DIR/daemon.log" || e2e_fail "no reloaded line"
e2e_lis post "$E2E_ROOT"/examples/fhir/gastric-type1.json >"$E2E_DIR/post.txt"
e2e_wait_reports 1 final,amended 60
grep -q " debug " "$E2E_DIR/daemon.log" || e2e_fail "no debug lines after the reload"

# a broken config: refused, the daemon goes on
printf '[server]\nbase = https://127.0.0.1:1/fhir\nno_such_key = 1\n' >"$E2E_DIR/nenfhir.conf"
kill -HUP "$E2E_DAEMON_PID"
for _ in $(seq 1 50); do grep -q "SIGHUP: configuration refused" "$E2E_DIR/daemon.log" && break; sleep 0.2; done
grep -q "SIGHUP: configuration refused, the old one stays in use: .*no_such_key" "$E2E_DIR/daemon.log" ||
    e2e_fail "broken config not refused"
# a config whose check fails (a key of another certificate): refused too
sed "s|^key = .*|key = $E2E_CERTS/client.key|" "$E2E_DIR/good.conf" >"$E2E_DIR/nenfhir.conf"
kill -HUP "$E2E_DAEMON_PID"
for _ in $(seq 1 50); do grep -q "SIGHUP: configuration refused (" "$E2E_DIR/daemon.log" && break; sleep 0.2; done
grep -q "SIGHUP: configuration refused (1 error(s), the first: listen.key: .*does not match" "$E2E_DIR/daemon.log" ||
    e2e_fail "mismatched key not refused"
kill -0 "$E2E_DAEMON_PID" || e2e_fail "daemon died"
e2e_lis post "$E2E_ROOT"/examples/fhir/thymus-net.json >>"$E2E_DIR/post.txt"
e2e_wait_reports 2 final,amended 60
e2e_check_examples "$E2E_ROOT"/examples/fhir/gastric-type1.json "$E2E_ROOT"/examples/fhir/thymus-net.json
e2e_finish
e2e_pass "check-config --connect (ok, wrong CA at TLS, wrong token at auth); SIGHUP reloaded (debug, token file), broken configs refused, reports written"
