#!/bin/sh
# issue 14 item 6 from the command line, without a server: `nenfhir
# unsubscribe` reads its options strictly (unknown option, missing value,
# a word too many, no -c: exit 2), --help exits 0, a config without an
# endpoint (poll mode) needs --all-endpoints (exit 2), a bad value of
# [subscription] cleanup is refused with its line, and a server that is not
# there is an error (exit 1, the reason on stderr, nothing removed printed).
# The e2e test I14_unsubscribe.sh does the real removals.
bin=${1:?usage: test_cli_unsubscribe.sh NENFHIR}
dir=$(mktemp -d "${TMPDIR:-/tmp}/nenfhir-cli-unsub.XXXXXX")
trap 'rm -rf "$dir"' EXIT
pass=0 fail=0
check() { # name, condition result
    if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}
cat >"$dir/poll.conf" <<EOF
[server]
base = http://127.0.0.1:9/fhir
insecure_http = yes
timeout = 2
[subscription]
mode = poll
[store]
path = $dir/nenfhir.db
EOF
cat >"$dir/hook.conf" <<EOF
[server]
base = http://127.0.0.1:9/fhir
insecure_http = yes
timeout = 2
[listen]
plain_http = yes
[subscription]
endpoint = http://127.0.0.1:8443/notify
cleanup = yes
[store]
path = $dir/nenfhir.db
EOF
run() { # expected status, then the command's words; output in $dir/out, $dir/err
    want=$1
    shift
    "$bin" "$@" >"$dir/out" 2>"$dir/err"
    got=$?
    [ "$got" = "$want" ]
}
run 0 unsubscribe --help && grep -q "usage: nenfhir unsubscribe -c FILE" "$dir/out"
check "--help: usage, exit 0" $?
run 2 unsubscribe -c "$dir/poll.conf" --bogus && grep -q "unknown option '--bogus'" "$dir/err"
check "unknown option: exit 2" $?
run 2 unsubscribe -c && grep -q "option needs a value" "$dir/err"
check "-c without a value: exit 2" $?
run 2 unsubscribe -c "$dir/poll.conf" extra && grep -q "unexpected argument 'extra'" "$dir/err"
check "a word too many: exit 2" $?
run 2 unsubscribe --dry-run && grep -q "needs -c FILE" "$dir/err"
check "no -c: exit 2" $?
run 2 unsubscribe -c "$dir/poll.conf" && grep -q "names no subscription.endpoint (mode poll): use --all-endpoints" "$dir/err"
check "poll mode without --all-endpoints: exit 2" $?
"$bin" check-config "$dir/hook.conf" >/dev/null 2>&1
check "subscription.cleanup = yes is a known key" $?
sed 's/^cleanup = yes/cleanup = sometimes/' "$dir/hook.conf" >"$dir/bad.conf"
run 2 unsubscribe -c "$dir/bad.conf" && grep -q "bad.conf:9:.*cleanup.*not a boolean" "$dir/err"
check "cleanup = sometimes: refused with its line" $?
run 1 unsubscribe -c "$dir/hook.conf" --dry-run && grep -q "searching nenfhir's Subscriptions" "$dir/err" &&
    ! grep -q "would remove" "$dir/out"
check "no server: exit 1 with the reason" $?
run 1 unsubscribe -c "$dir/poll.conf" --all-endpoints && grep -q "searching nenfhir's Subscriptions" "$dir/err"
check "poll mode --all-endpoints reaches for the server" $?
echo "cli_unsubscribe: $pass passed, $fail failed"
[ "$fail" = 0 ]
