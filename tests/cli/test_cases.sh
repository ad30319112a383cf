#!/bin/sh
# test_cases.sh - the inputs nenfhir once got wrong (tests/cases/DATE/, copied
# from ../shared/cases/DATE/ with the README that states each right result):
# every NAME.json is classified and checked against NAME.expect, one rule a
# line:
#   LINE         the summary (classify --summary) has this exact line
#   !LINE        ... does not have it
#   ~REGEX       some summary line matches the extended regex
#   !~REGEX      no summary line matches it
#   trace~REGEX  the full output (the report with its rule trace) matches it
#   exit=N       classify exits with N (default 0)
#   stderr~REGEX the messages on stderr match it
bin=${1:?usage: test_cases.sh NENFHIR CASES_DIR}
dir=${2:?usage: test_cases.sh NENFHIR CASES_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
for f in "$dir"/*/*.json; do
    exp=${f%.json}.expect
    name=$(basename "$(dirname "$f")")/$(basename "$f")
    if [ ! -f "$exp" ]; then
        echo "FAIL: $name has no .expect"; fail=$((fail + 1)); continue
    fi
    "$bin" classify --summary "$f" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    "$bin" classify "$f" >"$tmp/full" 2>/dev/null
    want_rc=0 ok=1
    while IFS= read -r rule || [ -n "$rule" ]; do
        case $rule in
        "") continue ;;
        exit=*) want_rc=${rule#exit=}; continue ;;
        stderr~*) grep -Eq -- "${rule#stderr~}" "$tmp/err" ;;
        trace~*) grep -Eq -- "${rule#trace~}" "$tmp/full" ;;
        '!~'*) ! grep -Eq -- "${rule#!\~}" "$tmp/out" ;;
        '~'*) grep -Eq -- "${rule#\~}" "$tmp/out" ;;
        '!'*) ! grep -qxF -- "${rule#!}" "$tmp/out" ;;
        *) grep -qxF -- "$rule" "$tmp/out" ;;
        esac || { echo "FAIL: $name: $rule"; ok=0; }
    done <"$exp"
    [ "$rc" = "$want_rc" ] || { echo "FAIL: $name: exit $rc, want $want_rc"; ok=0; }
    if [ $ok = 1 ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); echo "  summary:"; sed 's/^/    /' "$tmp/out"; sed 's/^/    stderr: /' "$tmp/err" | head -20
    fi
done
echo "cases: $pass passed, $fail failed"
[ $fail = 0 ] && [ $pass -gt 0 ]
