#!/usr/bin/env bash
# make-dev-certs.sh -- development TLS material for nenfhir tests and local runs.
#
# Makes, in OUTDIR (default: the dev/ folder next to this script):
#   ca.crt, ca.key                 development CA (trust anchor for both sides)
#   server.crt, server.key         server certificate signed by the CA, for the test FHIR
#                                  server and the HTTPS notification listener
#                                  (SAN DNS:localhost, IP:127.0.0.1, IP:::1;
#                                  extendedKeyUsage serverAuth, clientAuth)
#   client.crt, client.key         client certificate (CN nenfhir-client, clientAuth)
#                                  signed by the CA, for mutual TLS
#   other-ca.crt, other-ca.key     a second, unrelated CA
#   bad-client.crt, bad-client.key client certificate signed by the unrelated CA; tests use
#                                  it to prove that a wrong client certificate is refused
# EC P-256 keys, SHA-256, 825 days. Never use these outside development: the keys sit in
# plain files. certs/.gitignore keeps dev/ and *.key out of git.
#
# Idempotent: if OUTDIR already holds every file, server.crt chains to ca.crt and stays
# valid for more than 7 days, nothing is done. Otherwise everything is made anew.
#
# Usage: certs/make-dev-certs.sh [OUTDIR]
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
outdir=${1:-"$script_dir/dev"}
days=825

command -v openssl >/dev/null 2>&1 || { echo "make-dev-certs: openssl not found" >&2; exit 1; }

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

# Serialise concurrent runs (for example two test jobs starting at once).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$outdir/.lock"
    flock 9
fi

files=(ca.crt ca.key server.crt server.key client.crt client.key
       other-ca.crt other-ca.key bad-client.crt bad-client.key)

all_present=1
for f in "${files[@]}"; do
    [[ -s "$outdir/$f" ]] || { all_present=0; break; }
done
if (( all_present )) &&
   openssl x509 -in "$outdir/server.crt" -noout -checkend $((7 * 24 * 3600)) >/dev/null 2>&1 &&
   openssl verify -CAfile "$outdir/ca.crt" "$outdir/server.crt" >/dev/null 2>&1; then
    echo "make-dev-certs: $outdir already holds valid development certificates; nothing to do"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt             = no
[dn]
[v3_ca]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
[server]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth, clientAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid, issuer
[client]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid, issuer
EOF

newkey() { # newkey FILE
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null)
    chmod 600 "$1"
}

newca() { # newca NAME SUBJECT
    newkey "$work/$1.key"
    openssl req -x509 -new -config "$work/openssl.cnf" -extensions v3_ca \
        -key "$work/$1.key" -sha256 -days "$days" -subj "$2" -out "$work/$1.crt"
}

newleaf() { # newleaf NAME SUBJECT EXTSECTION CANAME
    newkey "$work/$1.key"
    openssl req -new -config "$work/openssl.cnf" -key "$work/$1.key" -subj "$2" \
        -out "$work/$1.csr"
    openssl x509 -req -in "$work/$1.csr" -CA "$work/$4.crt" -CAkey "$work/$4.key" \
        -set_serial "0x$(openssl rand -hex 16)" -sha256 -days "$days" \
        -extfile "$work/openssl.cnf" -extensions "$3" -out "$work/$1.crt" 2>/dev/null
}

newca     ca         "/O=nenfhir development/CN=nenfhir dev CA"
newleaf   server     "/O=nenfhir development/CN=localhost"      server ca
newleaf   client     "/O=nenfhir development/CN=nenfhir-client" client ca
newca     other-ca   "/O=unrelated development/CN=unrelated dev CA"
newleaf   bad-client "/O=unrelated development/CN=nenfhir-client" client other-ca

# Sanity checks before anything in OUTDIR is replaced.
openssl verify -CAfile "$work/ca.crt" "$work/server.crt" "$work/client.crt" >/dev/null
openssl verify -CAfile "$work/other-ca.crt" "$work/bad-client.crt" >/dev/null
if openssl verify -CAfile "$work/ca.crt" "$work/bad-client.crt" >/dev/null 2>&1; then
    echo "make-dev-certs: bad-client.crt unexpectedly verifies against ca.crt" >&2
    exit 1
fi

for f in "${files[@]}"; do
    case $f in
        *.key) chmod 600 "$work/$f" ;;
        *)     chmod 644 "$work/$f" ;;
    esac
    mv -f "$work/$f" "$outdir/$f"
    echo "made $outdir/$f"
done
