#!/bin/sh
# The rule files (grade, gastric type, stage, advice) may include only the case header
# (nen_case.h, or nen_rules.h which includes only nen_case.h) and libc headers
# that do no I/O. Fails naming any other include.
dir=${1:?usage: check_rule_includes.sh MAPPINGS_DIR}
allowed='^#include ("nen_case.h"|"nen_rules.h"|<math.h>|<string.h>|<stdint.h>|<stddef.h>)$'
status=0
files=$(ls "$dir"/nen_grade*.c "$dir"/nen_gtype.c "$dir"/nen_advice.c "$dir"/nen_stage*.c "$dir"/nen_rules.h "$dir"/nen_case.h)
[ -n "$files" ] || { echo "no rule files found in $dir"; exit 1; }
for f in $files; do
    bad=$(grep -E '^[[:space:]]*#[[:space:]]*include' "$f" | grep -Ev "$allowed")
    if [ -n "$bad" ]; then
        echo "$f includes more than the case header and libc: $bad"
        status=1
    fi
done
count=$(echo "$files" | wc -w)
[ $status -eq 0 ] && echo "rule files checked: $count passed, 0 failed"
exit $status
