#!/bin/sh
# `nenfhir classify`: the expected summary for every example (JSON and XML),
# single resources from several files, the hospital's mapping file, the
# Bundle in JSON and XML, and hostile or unreadable input refused (exit 2)
# with a message naming the problem.
bin=${1:?usage: test_cli_classify.sh NENFHIR EXAMPLES_DIR}
ex=${2:?usage: test_cli_classify.sh NENFHIR EXAMPLES_DIR}
fx=$(dirname "$0")/fixtures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { # name, condition result
    if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}
refused() { # name, expected message, classify args...
    name=$1 want=$2
    shift 2
    "$bin" classify --summary "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc = 2 ] && grep -qF -- "$want" "$tmp/err"
    r=$?
    [ $r = 0 ] || { echo "  rc=$rc, stderr:"; cat "$tmp/err"; }
    check "$name" $r
}

n=0
for f in "$ex"/*.json; do
    name=$(basename "$f" .json)
    "$bin" classify --summary "$f" >"$tmp/$name.out" 2>/dev/null
    cmp -s "$tmp/$name.out" "$ex/$name.expected"; r=$?
    [ $r = 0 ] || diff "$tmp/$name.out" "$ex/$name.expected"
    check "summary of $name.json" $r
    n=$((n + 1))
done
[ $n -ge 9 ]; check "nine examples or more" $?
for f in "$ex"/*.xml; do
    name=$(basename "$f" .xml)
    "$bin" classify --summary "$f" 2>/dev/null | cmp -s - "$ex/$name.expected"
    check "summary of $name.xml equals the JSON's" $?
done

# single resources from several files, JSON and XML mixed; "<1%" kept as a limit
out=$("$bin" classify --summary "$fx/patient.json" "$fx/ki67.json" "$fx/site.xml" 2>/dev/null)
echo "$out" | grep -qx 'grade=G1'; check "single resources: grade from <1%" $?
echo "$out" | grep -q '^warning=input-range: ki67'; check "single resources: limit warned" $?
echo "$out" | grep -qx 'status=preliminary'; check "single resources: preliminary" $?

# the hospital's own code table
out=$("$bin" classify --summary "$fx/patient.json" "$fx/ki67.json" "$fx/site.xml" "$fx/local-codes.json" 2>"$tmp/err")
echo "$out" | grep -q '^warning=grade-ki67-only'; check "local code unknown without the map" $?
grep -q 'Observation/mit: no input' "$tmp/err"; check "unknown code logged" $?
out=$("$bin" classify --summary --map "$fx/local.map" "$fx/patient.json" "$fx/ki67.json" "$fx/site.xml" "$fx/local-codes.json" 2>/dev/null)
echo "$out" | grep -q '^warning=grade-ki67-only'; [ $? != 0 ]; check "local code read with --map" $?
refused "bad map names file and line" "bad.map:2: 'mitosis' is not an input key" --map "$fx/bad.map" "$fx/patient.json"

# the Bundle, JSON and XML
"$bin" classify "$ex/gastric-type1.json" >"$tmp/b.json" 2>/dev/null
grep -q '"resourceType": "Bundle"' "$tmp/b.json" && grep -q '"type": "transaction"' "$tmp/b.json"
check "JSON transaction Bundle" $?
"$bin" classify --xml "$ex/gastric-type1.json" >"$tmp/b.xml" 2>/dev/null
head -2 "$tmp/b.xml" | grep -q '<Bundle xmlns="http://hl7.org/fhir">'; check "XML Bundle" $?
grep -q '<code value="60568-3"/>' "$tmp/b.xml"; check "XML carries the report code" $?

# a case is a tissue specimen (issue 11): a biopsy and a resection of one
# patient are two cases, each printed after its case= line, each with its
# own grade; the biopsy's lists what only the resection has
cs="$ex/cases/two-specimens-biopsy.json"
cr="$ex/cases/two-specimens-resection.json"
"$bin" classify --summary "$cs" "$cr" >"$tmp/two.out" 2>/dev/null; check "two cases: exit 0" $?
[ "$(grep -c '^case=' "$tmp/two.out")" = 2 ]; check "two cases: two case= lines" $?
awk '/^case=/ {c = $0} /^grade=/ {print c " " $0}' "$tmp/two.out" | sort >"$tmp/grades"
printf 'case=S26-100001 grade=G1\ncase=S26-100002 grade=G2\n' | cmp -s - "$tmp/grades"
check "two cases: each its own grade" $?
awk '/^case=S26-100001/ {on = 1} /^case=S26-100002/ {on = 0} on' "$tmp/two.out" |
    grep -q '^warning=input-in-other-case: mitoses: .*S26-100002'
check "two cases: the biopsy names the resection's mitoses" $?
"$bin" classify --case S26-100002 "$cs" "$cr" 2>/dev/null | grep -q '"value": "S26-100002"'
check "two cases: --case prints that case's Bundle" $?
"$bin" classify "$cs" "$cr" >/dev/null 2>"$tmp/err"; [ $? = 2 ] &&
    grep -q 'these resources are 2 cases .*choose one with --case' "$tmp/err"
check "two cases: a Bundle needs --case" $?
refused "unknown --case" "no case with accession 'S26-9'" --case S26-9 "$cs"

# hostile and unreadable input
refused "XXE refused" "DOCTYPE" "$fx/xxe.xml"
refused "billion laughs refused" "DOCTYPE" "$fx/laughs.xml"
awk 'BEGIN { s = "{\"resourceType\":\"Basic\",\"x\":"; for (i = 0; i < 100; i++) s = s "["; for (i = 0; i < 100; i++) s = s "]"; print s "}" }' >"$tmp/deep.json"
refused "100-level JSON refused" "nested deeper than 32 levels" "$tmp/deep.json"
head -c 52428800 /dev/zero | tr '\0' ' ' >"$tmp/big.json"
refused "50 MB body refused" "larger than the 16777216-byte limit" "$tmp/big.json"
refused "wrong type names resource and field" "Observation/bad.valueQuantity.value: expected a number, found string" "$fx/patient.json" "$fx/wrong-type.json"
refused "missing file" "no-such-file.json: No such file or directory" "$tmp/no-such-file.json"
printf 'not json' >"$tmp/garbage.json"
refused "garbage" "invalid JSON" "$tmp/garbage.json"
"$bin" classify >/dev/null 2>&1; [ $? = 2 ]; check "no FILE exits 2" $?

echo "cli_classify: $pass passed, $fail failed"
[ $fail = 0 ]
