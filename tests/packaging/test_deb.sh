#!/bin/sh
# test_deb.sh SRCDIR - the Debian package (issue 14 item 8; README "Install as a
# service"). In a scratch directory: configure a release build, build the program,
# `cpack -G DEB`, check the package's metadata (dpkg-deb -I: name, Depends,
# conffiles, maintainer scripts), unpack it with `dpkg -x` into a scratch root
# (nothing is installed on this machine, no user is created), then run the
# unpacked program: `check-config` on the packaged config with its paths moved
# into the scratch root, `classify` on an example, and `systemd-analyze verify`
# on the unit when systemd-analyze is there. Everything is removed at the end.
set -eu
SRC=$(cd "${1:?usage: test_deb.sh SRCDIR}" && pwd)
for p in cmake cpack dpkg dpkg-deb; do
    command -v "$p" >/dev/null || { echo "test_deb: SKIP: $p not found"; exit 77; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/nenfhir-deb.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
fail() { echo "test_deb: FAIL: $*" >&2; exit 1; }
step() { echo "test_deb: $*"; }

# 1. release build and package. -O2 as Debian builds (dpkg-buildflags); the
# package needs only the program, so `cpack` builds nothing else.
step "build and cpack -G DEB in $T/build"
cmake -S "$SRC" -B "$T/build" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG" \
      -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >"$T/log" 2>&1 ||
    { cat "$T/log"; fail "cmake configure"; }
cmake --build "$T/build" --target nenfhir -j "$(nproc 2>/dev/null || echo 2)" >>"$T/log" 2>&1 ||
    { tail -40 "$T/log"; fail "build"; }
(cd "$T/build" && cpack -G DEB) >>"$T/log" 2>&1 || { tail -40 "$T/log"; fail "cpack -G DEB"; }
set -- "$T"/build/nenfhir_*.deb
[ $# -eq 1 ] && [ -f "$1" ] || fail "no single nenfhir_*.deb in $T/build"
DEB=$1
step "package $(basename "$DEB")"

# 2. metadata and maintainer scripts
[ "$(dpkg-deb -f "$DEB" Package)" = nenfhir ] || fail "package name is not nenfhir"
deps=$(dpkg-deb -f "$DEB" Depends)
for lib in libcurl4 libjson-c5 libxml2 libssl3 libevent-2.1-7 libevent-openssl-2.1-7 libsqlite3-0 passwd; do
    echo "$deps" | tr ',' '\n' | grep -q "^ *$lib\b" || fail "Depends lacks $lib: $deps"
done
dpkg-deb -I "$DEB" >"$T/info"
for f in conffiles postinst prerm postrm; do
    grep -q "^ *[0-9]* bytes, *[0-9]* lines .* $f *" "$T/info" || fail "control member $f missing"
done
mkdir "$T/control"
dpkg-deb -e "$DEB" "$T/control"
grep -qx /etc/nenfhir/nenfhir.conf "$T/control/conffiles" || fail "conffiles lacks nenfhir.conf"
for s in postinst prerm postrm; do
    [ -x "$T/control/$s" ] || fail "$s is not executable"
    sh -n "$T/control/$s" || fail "$s: shell syntax"
done
grep -q 'useradd --system' "$T/control/postinst" || fail "postinst creates no system user"
grep -q 'install -d -m 0700 -o nenfhir -g nenfhir /var/lib/nenfhir' "$T/control/postinst" ||
    fail "postinst does not make /var/lib/nenfhir 0700 nenfhir"
for s in prerm postrm; do
    grep -q '\[ -d /run/systemd/system \]' "$T/control/$s" || fail "$s stops without checking systemd"
done

# 3. unpack into a scratch root; the expected files
R=$T/root
dpkg -x "$DEB" "$R"
for f in usr/bin/nenfhir etc/nenfhir/nenfhir.conf usr/lib/systemd/system/nenfhir.service \
         usr/share/man/man8/nenfhir.8 usr/share/doc/nenfhir/nenfhir.conf.example \
         usr/share/nenfhir/codes/default.map usr/share/nenfhir/codes/tnm.map \
         usr/share/nenfhir/codes/sites.map usr/share/nenfhir/codes/workup.map \
         usr/share/nenfhir/codes/results.map; do
    [ -s "$R/$f" ] || fail "/$f not in the package"
done
[ -x "$R/usr/bin/nenfhir" ] || fail "/usr/bin/nenfhir is not executable"
CONF=$R/etc/nenfhir/nenfhir.conf
grep -qx 'path = /var/lib/nenfhir/nenfhir.db' "$CONF" || fail "packaged store is not /var/lib/nenfhir"
U=$R/usr/lib/systemd/system/nenfhir.service
for l in User=nenfhir StateDirectory=nenfhir StateDirectoryMode=0700 ConfigurationDirectory=nenfhir \
         'ExecStart=/usr/bin/nenfhir run -c /etc/nenfhir/nenfhir.conf' 'ExecReload=/bin/kill -HUP $MAINPID' \
         Restart=on-failure ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
         PrivateDevices=yes 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
         ReadWritePaths=/var/lib/nenfhir; do
    grep -qxF "$l" "$U" || fail "unit lacks '$l'"
done

# 4. the unpacked program
N=$R/usr/bin/nenfhir
"$N" version | grep -q '^nenfhir ' || fail "nenfhir version"
"$N" --help | grep -q 'check-config' || fail "nenfhir --help"
# the packaged config as shipped: syntax fine, it stops at the first missing
# certificate (the hospital's files are not there yet)
if "$N" check-config "$CONF" >"$T/out" 2>&1; then fail "shipped config passed without its certificates"; fi
grep -q 'ca_file: cannot read /etc/nenfhir/ca.pem' "$T/out" ||
    { cat "$T/out"; fail "shipped config: unexpected error"; }
# with its paths moved into the scratch root and the files it names made
sed -e "s#/etc/nenfhir/#$R/etc/nenfhir/#g" -e "s#/var/lib/nenfhir/#$R/var/lib/nenfhir/#g" \
    "$CONF" >"$T/nenfhir.conf"
mkdir -p "$R/var/lib/nenfhir"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
        -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 || fail "openssl req"
for c in ca client listen client-ca; do cp "$T/cert.pem" "$R/etc/nenfhir/$c.pem"; done
for k in client-key listen-key; do cp "$T/key.pem" "$R/etc/nenfhir/$k.pem"; done
echo token >"$R/etc/nenfhir/token"
echo secret >"$R/etc/nenfhir/secret"
"$N" check-config "$T/nenfhir.conf" >"$T/out" 2>&1 || { cat "$T/out"; fail "check-config"; }
grep -q ': ok (mode rest-hook' "$T/out" || { cat "$T/out"; fail "check-config output"; }
step "$(cat "$T/out")"
# a hospital map next to the config: the shipped table as a start
sed -e "s|^#map = $R/etc/nenfhir/hospital.map\$|map = $R/usr/share/nenfhir/codes/default.map|" \
    "$T/nenfhir.conf" >"$T/with-map.conf"
grep -q "^map = " "$T/with-map.conf" || fail "no [codes] map line to enable"
"$N" check-config "$T/with-map.conf" >"$T/out" 2>&1 || { cat "$T/out"; fail "check-config with map"; }
# offline classification from the package
"$N" classify --summary "$SRC/examples/fhir/gastric-type1.json" >"$T/summary" 2>"$T/err" ||
    { cat "$T/err"; fail "classify"; }
diff -u "$SRC/examples/fhir/gastric-type1.expected" "$T/summary" || fail "classify result"

# 5. the man page renders without warnings
if command -v man >/dev/null 2>&1 && command -v groff >/dev/null 2>&1; then
    MANWIDTH=80 man --warnings -l "$R/usr/share/man/man8/nenfhir.8" >"$T/man" 2>"$T/manerr" ||
        fail "man nenfhir.8"
    [ ! -s "$T/manerr" ] || { cat "$T/manerr"; fail "man page warnings"; }
    for w in check-config classify explain dead-letter SIGHUP SIGTERM 'EXIT STATUS' FILES; do
        grep -q "$w" "$T/man" || fail "man page lacks $w"
    done
else
    step "man or groff not found: man page rendering not checked"
fi

# 6. the unit, with ExecStart pointing at the unpacked program
if command -v systemd-analyze >/dev/null 2>&1; then
    mkdir "$T/unit"
    sed "s#/usr/bin/nenfhir#$N#g" "$U" >"$T/unit/nenfhir.service"
    MANPATH=$R/usr/share/man systemd-analyze verify "$T/unit/nenfhir.service" >"$T/out" 2>&1 ||
        { cat "$T/out"; fail "systemd-analyze verify"; }
    [ ! -s "$T/out" ] || { cat "$T/out"; fail "systemd-analyze verify warnings"; }
    step "systemd-analyze verify: clean"
else
    step "SKIP systemd-analyze verify: systemd-analyze not found"
fi
step "ok"
