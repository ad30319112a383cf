#!/bin/sh
# Every resource nenfhir writes for the examples passes the FHIR R4 validator
# of @medplum/core (validateResource), and the validator itself still rejects
# invalid resources (selftest). Needs Node and tests/fhir-server/node_modules:
# scripts/node-setup.sh installs both.
bin=${1:?usage: test_reports_valid.sh NENFHIR EXAMPLES_DIR}
ex=${2:?usage: test_reports_valid.sh NENFHIR EXAMPLES_DIR}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
node=node
[ -s "$repo/.tools/node-path" ] && node=$(cat "$repo/.tools/node-path")
if ! "$node" --version >/dev/null 2>&1 || [ ! -d "$here/node_modules/@medplum/core" ]; then
    echo "FAIL: Node or tests/fhir-server/node_modules missing: run scripts/node-setup.sh"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for f in "$ex"/*.json "$ex"/*.xml; do
    name=$(basename "$f")
    "$bin" classify "$f" >"$tmp/$name.report.json" 2>/dev/null || { echo "FAIL: classify $name"; exit 1; }
    n=$((n + 1))
done
echo "reports written: $n"
PATH="$(dirname "$node"):$PATH" sh "$here/selftest.sh" || { echo "FAIL: validator selftest"; exit 1; }
"$node" "$here/validate.mjs" "$tmp"/*.report.json
