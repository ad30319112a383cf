#!/bin/sh
# Every resource nenfhir writes for the examples passes the FHIR R4 validator
# of @medplum/core (validateResource) and nenfhir's own checks
# (nenfhir-checks.mjs: every SNOMED CT / LOINC / ICD-O-3 code on a sourced
# `result` line of mappings/codes, the narrative FHIR xhtml, the presentedForm
# text/html + text/plain), and the validator itself still rejects invalid
# resources (selftest, and a report with an unlisted code and a script in its
# narrative). Needs Node and tests/fhir-server/node_modules:
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
"$node" "$here/validate.mjs" "$tmp"/*.report.json || exit 1
# The checks catch what they must: an unlisted SNOMED CT code, a script in the narrative.
"$node" -e '
const fs = require("fs");
const b = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const dr = b.entry.map((e) => e.resource).find((r) => r.resourceType === "DiagnosticReport");
dr.conclusionCode[0].coding.push({ system: "http://snomed.info/sct", code: "999999999" });
dr.text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>x</p><script>alert(1)</script></div>";
fs.writeFileSync(process.argv[2], JSON.stringify(b));
' "$tmp/gastric-type3.json.report.json" "$tmp/bad.json" || { echo "FAIL: could not make the bad report"; exit 1; }
if "$node" "$here/validate.mjs" "$tmp/bad.json" >"$tmp/bad.out"; then
    echo "FAIL: a report with an unlisted code and a script passed"; cat "$tmp/bad.out"; exit 1
fi
grep -q "999999999 is on no .result. line" "$tmp/bad.out" &&
    grep -q "<script> is not allowed" "$tmp/bad.out" ||
    { echo "FAIL: the bad report was refused for other reasons:"; cat "$tmp/bad.out"; exit 1; }
echo "nenfhir checks: the unlisted code and the script are refused"
