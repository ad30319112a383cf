#!/usr/bin/env bash
# demo.sh - install what is missing, build, and run what nenfhir does today
# without a server (`nenfhir classify`, the offline mode): each example case
# of examples/fhir/ (FHIR R4 resources as a lab writes them, JSON and XML) is
# read, classified, and turned into the transaction Bundle nenfhir would
# send: DiagnosticReport, result Observations, Device, Provenance. Prints
# each case's result lines; the Bundles go to build/demo/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/bootstrap.sh >/dev/null
scripts/build.sh build >/dev/null
mkdir -p build/demo
for f in examples/fhir/*.json examples/fhir/*.xml; do
    name=$(basename "$f")
    echo "=================================================================="
    echo "$name: $(grep -m1 -F "| \`${name%.*}\`" examples/fhir/README.md | cut -d'|' -f3 | sed 's/^ *//; s/ *$//')"
    echo "------------------------------------------------------------------"
    build/nenfhir classify --summary "$f" 2>/dev/null
    build/nenfhir classify "$f" >"build/demo/$name.report.json" 2>/dev/null
    echo "-> build/demo/$name.report.json: transaction Bundle of $(grep -c '"fullUrl"' "build/demo/$name.report.json") resources"
done
echo "=================================================================="
echo "The DiagnosticReport's conclusion carries the rule trace; to read it for one case:"
echo "  build/nenfhir explain \$(cat examples/fhir/gastric-type1.keys)"
echo "As FHIR XML: build/nenfhir classify --xml examples/fhir/gastric-type1.xml"
