#!/bin/sh
# issue 14 items 5, 6, 9 from the command line: `nenfhir case show|list`
# (text and --json), `reprocess`, `dead-letter purge`, `prune`, and the
# instance lock of `nenfhir run` (a second daemon on the same store refuses
# naming the first's pid; once the first stops a new one starts). The store
# is made by the program itself (`prune` creates the schema) and filled with
# sqlite3; the daemons poll a server that is not there (no network needed).
bin=${1:?usage: test_cli_case.sh NENFHIR}
command -v sqlite3 >/dev/null || { echo "SKIP: no sqlite3 program"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/nenfhir-cli-case.XXXXXX")
pids=""
cleanup() {
    for p in $pids; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT
pass=0 fail=0
check() { # name, condition result
    if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}
conf=$dir/nenfhir.conf
cat >"$conf" <<EOF
[server]
base = http://127.0.0.1:9/fhir
insecure_http = yes
timeout = 1
[subscription]
mode = poll
[poll]
interval = 60
[store]
path = $dir/nenfhir.db
keep_seen = 7d
keep_dead = 90d
keep_mirror = 365d
EOF
"$bin" check-config "$conf" >/dev/null; check "config with keep_* keys" $?
printf '[store]\nkeep_dead = 3w\n' >"$dir/bad.conf"
"$bin" check-config "$dir/bad.conf" 2>&1 | grep -q "keep_dead: '3w' is not an age"
check "a bad age is refused with its key" $?

"$bin" prune -c "$conf" >"$dir/prune0.txt"; check "prune on a new store" $?
grep -q "^pruned: 0 seen" "$dir/prune0.txt"; check "prune prints counts" $?

now=$(($(date +%s) * 1000))
old=$((now - 400 * 86400 * 1000))
sqlite3 "$dir/nenfhir.db" <<EOF
INSERT INTO report VALUES('http://lab.example/acc|S-1', 'Patient/p1', 'abc123', 'final', $now, 2);
INSERT INTO report VALUES('http://lab.example/acc|S-2', 'Patient/p1', 'def456', 'preliminary', $now, 1);
INSERT INTO report VALUES('http://lab.example/acc|S-9', 'Patient/p9', 'fff000', 'final', $old, 1);
INSERT INTO job(key, gen, attempts, due_ms, first_ms, touched_ms, dead, dead_seq, error, outcome)
  VALUES('Patient/p2', 1, 3, $now, $now, $now, 1, 1, 'HTTP 400', '{"resourceType":"OperationOutcome"}');
INSERT INTO job(key, gen, attempts, due_ms, first_ms, touched_ms, dead, dead_seq, error, outcome)
  VALUES('Patient/p3', 1, 1, $old, $old, $old, 1, 2, 'HTTP 422', '');
INSERT INTO mirror VALUES('Observation/o1', 'Observation', 'Patient/p1', '3', $now,
  '{"resourceType":"Observation","id":"o1","meta":{"versionId":"3","lastUpdated":"2026-01-02T03:04:05Z"},"code":{"coding":[{"system":"http://loinc.org","code":"85319-2"}]}}', $now);
INSERT INTO mirror VALUES('Specimen/s1', 'Specimen', 'Patient/p1', '1', $now,
  '{"resourceType":"Specimen","id":"s1","meta":{"versionId":"1"}}', $now);
INSERT INTO mirror VALUES('Observation/o9', 'Observation', 'Patient/p9', '1', $old,
  '{"resourceType":"Observation","id":"o9"}', $old);
INSERT INTO seeded VALUES('Patient/p1', $now);
INSERT INTO seeded VALUES('Patient/p9', $old);
INSERT INTO seen VALUES('Observation', 'o1', '1', $old);
EOF
check "fill the store" $?

# case show by accession value, by system|value, by patient
out=$("$bin" case show S-1 -c "$conf"); check "case show S-1" $?
echo "$out" | grep -q "^report   http://lab.example/acc|S-1"; check "show: the report" $?
echo "$out" | grep -q "status final, .*writes 2, digest abc123"; check "show: status, writes, digest" $?
echo "$out" | grep -q "^patient  Patient/p1"; check "show: the patient" $?
echo "$out" | grep -q "^job      none"; check "show: no job" $?
echo "$out" | grep -q "Observation/o1 .*version 3, lastUpdated 2026-01-02T03:04:05Z, code http://loinc.org|85319-2"
check "show: an input with its version and code" $?
echo "$out" | grep -q "Specimen/s1"; check "show: the specimen input" $?
echo "$out" | grep -q "^  http://lab.example/acc|S-2  preliminary"; check "show: the other accession" $?
"$bin" case show 'http://lab.example/acc|S-2' -c "$conf" | grep -q "acc|S-1  final"
check "show by system|value lists the other" $?
"$bin" case show Patient/p2 -c "$conf" >"$dir/p2.txt"; check "show a patient with a dead job" $?
grep -q "^job      dead, attempts 3" "$dir/p2.txt"; check "show: dead job" $?
grep -q "error: HTTP 400" "$dir/p2.txt"; check "show: job error" $?
"$bin" case show S-404 -c "$conf" >/dev/null 2>"$dir/err.txt"; [ $? = 1 ]
check "show an unknown case exits 1" $?
grep -q "no case 'S-404'" "$dir/err.txt"; check "unknown case message" $?
"$bin" case show -c "$conf" >/dev/null 2>&1; [ $? = 2 ]; check "show without a key exits 2" $?
"$bin" case frob -c "$conf" >/dev/null 2>&1; [ $? = 2 ]; check "unknown case action exits 2" $?

# --json: one document that a JSON parser reads
if command -v python3 >/dev/null; then
    "$bin" case show S-1 -c "$conf" --json >"$dir/show.json"; check "show --json" $?
    python3 - "$dir/show.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["patient"] == "Patient/p1", d
assert d["reports"][0]["accession"] == "http://lab.example/acc|S-1"
assert d["reports"][0]["writes"] == 2 and d["reports"][0]["status"] == "final"
assert d["job"] is None
codes = {i["ref"]: i["code"] for i in d["inputs"]}
assert codes["Observation/o1"] == "http://loinc.org|85319-2" and codes["Specimen/s1"] is None
assert [o["accession"] for o in d["otherAccessions"]] == ["http://lab.example/acc|S-2"]
EOF
    check "show --json fields" $?
    "$bin" case list -c "$conf" --json >"$dir/list.json"; check "list --json" $?
    python3 - "$dir/list.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
by = {(c["accession"], c["patient"]): c for c in d["cases"]}
assert len(d["cases"]) == 5, d
assert by[("http://lab.example/acc|S-1", "Patient/p1")]["status"] == "done"
assert by[(None, "Patient/p2")]["status"] == "dead"
assert by[("http://lab.example/acc|S-1", "Patient/p1")]["writes"] == 2
EOF
    check "list --json fields" $?
fi

out=$("$bin" case list -c "$conf"); check "case list" $?
echo "$out" | grep -q "^http://lab.example/acc|S-1	Patient/p1	done	final	.*	2$"; check "list: a done case" $?
echo "$out" | grep -q "^cases: 5$"; check "list: count" $?
[ "$("$bin" case list -c "$conf" --status dead | grep -c 'Patient/')" = 2 ]; check "list --status dead" $?
[ "$("$bin" case list -c "$conf" --status done --since 2020-01-01 | grep -c 'Patient/')" = 3 ]
check "list --status done --since" $?
[ "$("$bin" case list -c "$conf" --since "$(date -u +%Y-%m-%d)" | grep -c 'Patient/')" = 3 ]
check "list --since today leaves the old ones out" $?
"$bin" case list -c "$conf" --status gone >/dev/null 2>&1; [ $? = 2 ]; check "bad --status exits 2" $?
"$bin" case list -c "$conf" --since yesterday >/dev/null 2>&1; [ $? = 2 ]; check "bad --since exits 2" $?

# reprocess: the patients of the accessions are queued now
"$bin" reprocess -c "$conf" S-1 S-2 | grep -q "requeued: 1 patient"; check "reprocess two accessions of one patient" $?
[ "$(sqlite3 "$dir/nenfhir.db" "SELECT count(*) FROM job WHERE key='Patient/p1' AND dead=0")" = 1 ]
check "reprocess queued the patient" $?
"$bin" case show S-1 -c "$conf" | grep -q "^job      queued, attempts 0"; check "show: queued job" $?
"$bin" case list -c "$conf" --status pending | grep -q "acc|S-2	Patient/p1	pending"; check "list: pending" $?
"$bin" reprocess -c "$conf" S-404 >/dev/null 2>&1; [ $? = 1 ]; check "reprocess an unknown case exits 1" $?
"$bin" reprocess -c "$conf" >/dev/null 2>&1; [ $? = 2 ]; check "reprocess without what exits 2" $?
"$bin" reprocess -c "$conf" --all S-1 >/dev/null 2>&1; [ $? = 2 ]; check "reprocess --all with a key exits 2" $?
"$bin" reprocess -c "$conf" --all | grep -q "requeued: 4 patient"; check "reprocess --all" $?
[ "$(sqlite3 "$dir/nenfhir.db" "SELECT count(*) FROM job WHERE dead=1")" = 0 ]; check "--all revived the dead" $?

# dead-letter purge
sqlite3 "$dir/nenfhir.db" "UPDATE job SET dead = 1, dead_seq = rowid, touched_ms = $old WHERE key IN ('Patient/p2', 'Patient/p3', 'Patient/p9')"
"$bin" dead-letter -c "$conf" purge Patient/p2 | grep -q "^purged: 1$"; check "purge one" $?
"$bin" dead-letter -c "$conf" purge 2>/dev/null; [ $? = 2 ]; check "purge without KEY or --all exits 2" $?
"$bin" dead-letter -c "$conf" list --all >/dev/null 2>&1; [ $? = 2 ]; check "list --all exits 2" $?
[ "$(sqlite3 "$dir/nenfhir.db" "SELECT count(*) FROM job WHERE dead=1")" = 2 ]; check "the others stay" $?

# prune: old dead letters, old seen versions, the mirror of p9 (no job once
# its dead letter is gone) and its seeded mark; p1 (queued) keeps its mirror
"$bin" prune -c "$conf" >"$dir/prune.txt"; check "prune" $?
grep -q "^pruned: 1 seen version(s), 2 dead letter(s), 1 mirrored input(s) of 1 seeded patient(s); store [0-9]* bytes" "$dir/prune.txt"
check "prune counts: $(cat "$dir/prune.txt")" $?
[ "$(sqlite3 "$dir/nenfhir.db" "SELECT group_concat(patient_key) FROM seeded")" = Patient/p1 ]
check "p9 is no longer seeded" $?
[ "$(sqlite3 "$dir/nenfhir.db" "SELECT count(*) FROM mirror WHERE patient_key='Patient/p1'")" = 2 ]
check "p1 keeps its mirror" $?

# the instance lock (item 6)
"$bin" run -c "$conf" >"$dir/d1.log" 2>&1 &
d1=$!
pids="$pids $d1"
i=0
while [ $i -lt 50 ] && ! grep -q "started" "$dir/d1.log"; do sleep 0.1; i=$((i + 1)); done
grep -q "started" "$dir/d1.log"; check "first daemon started" $?
[ "$(cat "$dir/nenfhir.db.lock")" = "$d1" ]; check "the lock file holds its pid" $?
"$bin" run -c "$conf" >"$dir/d2.log" 2>&1; rc=$?
[ $rc != 0 ]; check "a second daemon on the same store exits non-zero" $?
grep -q "another nenfhir (pid $d1) is already running on the store" "$dir/d2.log"
check "the message names the first's pid: $(cat "$dir/d2.log")" $?
"$bin" reprocess -c "$conf" S-1 | grep -q "requeued: 1"; check "reprocess while the daemon runs" $?
"$bin" case list -c "$conf" >/dev/null; check "case list while the daemon runs" $?
kill -TERM "$d1"; wait "$d1"; check "first daemon stops" $?
pids=""
"$bin" run -c "$conf" >"$dir/d3.log" 2>&1 &
d3=$!
pids="$d3"
i=0
while [ $i -lt 50 ] && ! grep -q "started" "$dir/d3.log"; do sleep 0.1; i=$((i + 1)); done
grep -q "started" "$dir/d3.log"; check "a new daemon starts once the first stopped" $?
kill -TERM "$d3"; wait "$d3"; check "it stops cleanly" $?
pids=""

echo "cli_case: $pass passed, $fail failed"
[ $fail = 0 ]
