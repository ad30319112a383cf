#!/usr/bin/env bash
# test_check_config.sh - `nenfhir check-config` beyond the syntax (issue 14
# item 7): TLS material from certs/make-dev-certs.sh in a scratch directory
# (good pair ok; a key of another certificate refused; an expired
# certificate, made here with openssl, refused; one expiring within 30 days
# a warning), a world-readable token file a warning (exit 0), a store
# directory that is not writable refused.
# Usage: test_check_config.sh NENFHIR_BINARY REPO_ROOT
set -euo pipefail
N=$1
ROOT=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/nenfhir-check-config.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/out" ] && cat "$T/out" >&2; exit 1; }
"$ROOT/certs/make-dev-certs.sh" "$T/certs" >/dev/null 2>&1 || fail "make-dev-certs"
mkdir -p "$T/db"
printf 'token-0123456789\n' >"$T/token"
chmod 600 "$T/token"
conf() { # conf FILE client_cert client_key listen_cert listen_key [store_dir]
    cat >"$1" <<CONF
[server]
base = https://127.0.0.1:1/fhir
ca_file = $T/certs/ca.crt
client_cert = $2
client_key = $3
token_file = $T/token
[listen]
port = 0
cert = $4
key = $5
[subscription]
endpoint = https://127.0.0.1:8443/notify
[store]
path = ${6:-$T/db}/n.db
CONF
}
C=$T/certs
conf "$T/good.conf" "$C/client.crt" "$C/client.key" "$C/server.crt" "$C/server.key"
"$N" check-config "$T/good.conf" >"$T/out" 2>&1 || fail "good config refused"
grep -q "^ok      listen.key: .*matches the certificate" "$T/out" || fail "no key match line"
grep -q "^ok      store.path: .*directory writable" "$T/out" || fail "no store line"
grep -q ": ok (mode rest-hook" "$T/out" || fail "no final ok"
if grep -q "^warning\|^error" "$T/out"; then fail "unexpected warning/error"; fi

# a key that is not the certificate's
conf "$T/mismatch.conf" "$C/client.crt" "$C/server.key" "$C/server.crt" "$C/server.key"
if "$N" check-config "$T/mismatch.conf" >"$T/out" 2>&1; then fail "mismatched key accepted"; fi
grep -q "^error   server.client_key: .*does not match the certificate" "$T/out" || fail "mismatch message"

# an expired certificate (made with openssl) and one expiring in 10 days
# (OpenSSL 3.0's req has no past dates: `openssl ca` with -startdate/-enddate does)
printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\nnew_certs_dir = %s\nserial = %s/serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n' \
    "$T" "$T" "$T" >"$T/ca.cnf"
: >"$T/index.txt"
echo 01 >"$T/serial"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/old.key" \
    -out "$T/old.csr" -subj "/CN=expired" >/dev/null 2>&1 || fail "openssl request"
openssl ca -batch -config "$T/ca.cnf" -cert "$C/ca.crt" -keyfile "$C/ca.key" -in "$T/old.csr" \
    -out "$T/old.crt" -startdate 20200101000000Z -enddate 20200201000000Z -notext \
    >/dev/null 2>&1 || fail "openssl expired certificate"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/soon.key" \
    -out "$T/soon.crt" -subj "/CN=soon" -days 10 >/dev/null 2>&1 || fail "openssl certificate"
chmod 600 "$T"/*.key
conf "$T/expired.conf" "$C/client.crt" "$C/client.key" "$T/old.crt" "$T/old.key"
if "$N" check-config "$T/expired.conf" >"$T/out" 2>&1; then fail "expired certificate accepted"; fi
grep -q "^error   listen.cert: .*certificate 'expired' expired on Feb  1 00:00:00 2020 GMT" "$T/out" ||
    fail "expired message"
conf "$T/soon.conf" "$C/client.crt" "$C/client.key" "$T/soon.crt" "$T/soon.key"
"$N" check-config "$T/soon.conf" >"$T/out" 2>&1 || fail "certificate expiring soon refused"
grep -q "^warning listen.cert: .*certificate 'soon' expires in [0-9]* day(s)" "$T/out" ||
    fail "expiring-soon warning"

# not PEM
printf 'not a certificate\n' >"$T/junk.crt"
conf "$T/junk.conf" "$C/client.crt" "$C/client.key" "$T/junk.crt" "$C/server.key"
if "$N" check-config "$T/junk.conf" >"$T/out" 2>&1; then fail "junk certificate accepted"; fi
grep -q "^error   listen.cert: .*no PEM certificate" "$T/out" || fail "junk message"

# a world-readable token: a warning, still usable
chmod 644 "$T/token"
"$N" check-config "$T/good.conf" >"$T/out" 2>&1 || fail "readable token refused"
grep -q "^warning server.token_file: .*token is readable by others (mode 0644)" "$T/out" ||
    fail "readable token warning"
# group-readable (0640, root:nenfhir as the README installs it): no warning
chmod 640 "$T/token"
"$N" check-config "$T/good.conf" >"$T/out" 2>&1 || fail "group-readable token refused"
grep -q "token_file" "$T/out" && fail "a group-readable token warned: $(grep token_file "$T/out")"
chmod 600 "$T/token"

# a store directory that is not writable (skipped as root: root writes anyway)
if [ "$(id -u)" != 0 ]; then
    mkdir -p "$T/ro" && chmod 500 "$T/ro"
    conf "$T/ro.conf" "$C/client.crt" "$C/client.key" "$C/server.crt" "$C/server.key" "$T/ro"
    if "$N" check-config "$T/ro.conf" >"$T/out" 2>&1; then fail "read-only store dir accepted"; fi
    grep -q "^error   store.path: .*not writable" "$T/out" || fail "store dir message"
fi
echo "PASS: check-config: TLS pairs, expiry, PEM, modes, store directory"
