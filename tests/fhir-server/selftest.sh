#!/bin/sh
# Self-test for validate.mjs: the valid sample must pass (exit 0), the broken
# ones must be rejected (exit 1). Uses $NODE, else $NENFHIR_NODE, else .tools/node-path, else node.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
node=${NODE:-${NENFHIR_NODE:-}}
if [ -z "$node" ] && [ -s "$repo/.tools/node-path" ]; then node=$(cat "$repo/.tools/node-path"); fi
[ -n "$node" ] || node=node

pass=0
fail=0
check() { # expected-exit file
    out=$("$node" "$here/validate.mjs" "$here/selftest/$2" 2>&1)
    rc=$?
    if [ "$rc" -eq "$1" ]; then
        pass=$((pass + 1)); echo "PASS: $2 (exit $rc)"
    else
        fail=$((fail + 1)); echo "FAIL: $2 (exit $rc, expected $1)"
        printf '%s\n' "$out" | sed 's/^/    /'
    fi
}
check 0 valid-observation.json
check 1 invalid-status.json
check 1 unknown-property.json
echo "selftest: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
