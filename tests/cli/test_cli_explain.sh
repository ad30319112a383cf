#!/bin/sh
# `nenfhir explain`: summary lines for a case, the trace, and exit 2 with a
# message naming the field on bad input.
bin=${1:?usage: test_cli_explain.sh NENFHIR}
pass=0 fail=0
check() { # name, condition result
    if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}
out=$("$bin" explain --summary site=rectum diff=well ki67=1 mitoses=0/2mm2 size=8 \
      extent=submucosa nodes_examined=0 mets=none)
want="class=NET
grade=G1
type=not-applicable
t=T1a
n=NX
m=M0
stage=I
status=final
advice=follow-up-6-12m: follow-up every 6-12 months (G1)
advice=endoscopic-resection: < 20 mm, T1 (mucosa / submucosa), G1-G2: endoscopic resection (ESD, m-EMR, EFTR) once muscularis invasion and nodal metastasis are excluded"
[ "$out" = "$want" ]; check "summary lines" $?

out=$("$bin" explain site=lung specimen=biopsy mitoses=1/2mm2 necrosis=none ki67=3)
echo "$out" | grep -q '^class=carcinoid-NOS$'; check "biopsy carcinoid NOS" $?
echo "$out" | grep -q 'biopsy: carcinoid NOS, not TC or AC'; check "trace printed" $?

err=$("$bin" explain site=stomach ki67=abc 2>&1 >/dev/null); rc=$?
[ $rc = 2 ]; check "bad input exits 2" $?
echo "$err" | grep -q "ki67: 'abc' is not a number"; check "message names the field" $?

"$bin" explain >/dev/null 2>&1; [ $? = 2 ]; check "no inputs exits 2" $?
"$bin" frobnicate >/dev/null 2>&1; [ $? = 2 ]; check "unknown command exits 2" $?
"$bin" version | grep -q '^nenfhir '; check "version" $?

echo "cli_explain: $pass passed, $fail failed"
[ $fail = 0 ]
