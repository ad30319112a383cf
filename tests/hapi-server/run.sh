#!/usr/bin/env bash
# run.sh - builds (once, cached) and starts nenfhir's HAPI FHIR test server.
#
# Usage: tests/hapi-server/run.sh --certs DIR --port-file FILE [--port N]
#            [--page-size N] [--tenants] [--build-only] [-- extra Spring properties...]
#   --certs DIR      server.crt, server.key (HTTPS) and ca.crt (trusted for the
#                    rest-hook deliveries to nenfhir's listener): certs/make-dev-certs.sh
#   --port-file FILE the port is written there once the server listens
#   --port N         default 0: a free port chosen by the kernel
#   --page-size N    HAPI's default search page size (default 20)
#   --tenants        one HAPI partition per URL tenant: the base of tenant T is
#                    /fhir/T, made with POST /_test/tenant?name=T (the shared
#                    server of a ctest run, tests/hapi-server/shared.sh)
#   --build-only     build and exit
# Runs in the foreground (java as a child, stopped with this script); callers put it in the background and
# wait for the port file, then for GET /fhir/metadata.
# Environment: NENFHIR_HAPI_BUILD (default <checkout>/build/hapi-server),
# NENFHIR_HAPI_HEAP (default 1g), JAVA (default java), MVN (default mvn).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${NENFHIR_HAPI_BUILD:-$root/build/hapi-server}
certs="" port_file="" port=0 page=20 build_only="" tenants=false
while [ $# -gt 0 ]; do
    case $1 in
        --certs) certs=$2; shift 2 ;;
        --port-file) port_file=$2; shift 2 ;;
        --port) port=$2; shift 2 ;;
        --page-size) page=$2; shift 2 ;;
        --build-only) build_only=1; shift ;;
        --tenants) tenants=true; shift ;;
        --) shift; break ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

# Build when the classes are missing or older than a source file; one build
# at a time (several tests may start at once).
mkdir -p "$build"
exec 8>"$build/.lock"
flock 8
stamp=$build/classes/nenfhir/hapi/HapiTestServer.class
if [ ! -f "$stamp" ] || [ ! -s "$build/classpath.txt" ] ||
    [ -n "$(find "$here/pom.xml" "$here/src" -newer "$stamp" -type f 2>/dev/null | head -n 1)" ]; then
    offline=-o
    [ -n "${NENFHIR_HAPI_ONLINE:-}" ] && offline=
    "${MVN:-mvn}" -B -q $offline -f "$here/pom.xml" -Dnenfhir.hapi.build="$build" \
        -DskipTests package >"$build/mvn.log" 2>&1 ||
        { cat "$build/mvn.log" >&2; echo "run.sh: the HAPI test server did not build" >&2; exit 1; }
    touch "$stamp"
fi
flock -u 8
[ -n "$build_only" ] && exit 0
[ -n "$certs" ] && [ -n "$port_file" ] || { echo "run.sh: --certs and --port-file are needed" >&2; exit 2; }
certs=$(cd "$certs" && pwd)

# HAPI's rest-hook client trusts the JVM's trust store: a PKCS12 one with
# the development CA only (next to the port file, one per server).
trust=$port_file.trust.p12
rm -f "$trust"
keytool -importcert -noprompt -alias nenfhir-dev-ca -file "$certs/ca.crt" \
    -keystore "$trust" -storetype PKCS12 -storepass changeit >/dev/null 2>&1 ||
    { echo "run.sh: keytool could not import $certs/ca.crt" >&2; exit 1; }

rm -f "$port_file"
# java as a child, not exec'd: on SIGTERM/SIGINT it is stopped and this
# script exits 0 (the JVM itself would exit 143, which callers under
# `set -e` take for a failure).
"${JAVA:-java}" -Xmx"${NENFHIR_HAPI_HEAP:-1g}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djavax.net.ssl.trustStore="$trust" -Djavax.net.ssl.trustStorePassword=changeit \
    -Djavax.net.ssl.trustStoreType=PKCS12 \
    -cp "$build/classes:$(cat "$build/classpath.txt")" nenfhir.hapi.HapiTestServer \
    --server.port="$port" \
    --server.ssl.certificate="file:$certs/server.crt" \
    --server.ssl.certificate-private-key="file:$certs/server.key" \
    --nenfhir.port-file="$port_file" --nenfhir.page-size="$page" --nenfhir.tenants="$tenants" "$@" &
jpid=$!
stopping=""
trap 'stopping=1; kill -TERM "$jpid" 2>/dev/null' TERM INT
set +e
while :; do
    wait "$jpid"
    rc=$?
    kill -0 "$jpid" 2>/dev/null || break
done
[ -n "$stopping" ] && exit 0
exit "$rc"
