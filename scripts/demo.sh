#!/usr/bin/env bash
# demo.sh - install what is missing, build, and show what nenfhir computes
# today: the example cases of examples/cases.txt (taken from the guideline),
# each classified with its grade, gastric type, AJCC stage and rule trace.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/bootstrap.sh >/dev/null
scripts/build.sh build
while IFS='|' read -r title inputs; do
    case "$title" in ''|'#'*) continue ;; esac
    echo "=================================================================="
    title=${title%" "}; inputs=${inputs#" "}
    echo "$title"
    echo "inputs: $inputs"
    echo "------------------------------------------------------------------"
    # shellcheck disable=SC2086
    build/nenfhir explain $inputs
done < examples/cases.txt
echo "=================================================================="
echo "Try your own: build/nenfhir explain site=rectum diff=well ki67=1 size=8 ..."
echo "Vocabulary: tests/vectors/README.md   Rules as read: mappings/RULES.md"
