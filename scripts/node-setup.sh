#!/usr/bin/env bash
# node-setup.sh - make sure a Node.js that Medplum 4.5.x accepts
# (engines "^20.19.0 || >=22.12.0") is available, and that
# tests/fhir-server/node_modules is installed from its package-lock.json.
#
#   scripts/node-setup.sh          run it; prints "node-setup: node vX at PATH"
#   source scripts/node-setup.sh   same, and also puts that node first on PATH
#                                  and exports NENFHIR_NODE
#
# Always writes the absolute path of the chosen node binary to .tools/node-path.
#
# Order: the `node` on PATH if its version fits; else a Node 20 previously
# fetched into .tools/node; else fetch one from the npm registry
# (npm install node-linux-<arch>@NODE_SETUP_VERSION). To run npm at all, Debian's
# nodejs + npm are installed with apt when no working npm is found.
# Safe to run again: a second run installs nothing and prints only its one line.

NODE_SETUP_VERSION=${NODE_SETUP_VERSION:-20.20.2}

_ns_log() { echo "node-setup: $*" >&2; }

# _ns_version_ok VERSION -> 0 when VERSION satisfies ^20.19.0 || >=22.12.0
_ns_version_ok() {
    local v=${1#v} major minor
    v=${v%%[-+]*}
    major=${v%%.*}
    minor=${v#*.}
    minor=${minor%%.*}
    case "$major$minor" in '' | *[!0-9]*) return 1 ;; esac
    if [ "$major" -eq 20 ] && [ "$minor" -ge 19 ]; then return 0; fi
    if [ "$major" -eq 22 ] && [ "$minor" -ge 12 ]; then return 0; fi
    [ "$major" -ge 23 ]
}

# _ns_node_works BIN -> 0 when BIN really runs JavaScript
_ns_node_works() {
    [ -x "$1" ] && [ "$("$1" -e 'console.log(6*7)' 2>/dev/null)" = 42 ]
}

# _ns_node_fits BIN -> 0 when BIN works and its version fits
_ns_node_fits() {
    _ns_node_works "$1" && _ns_version_ok "$("$1" --version 2>/dev/null | head -n 1)"
}

# _ns_tls_hint -> what to do when npm failed, perhaps because a TLS-inspecting
# proxy re-signs the registry's certificate with a CA this machine does not trust.
_ns_tls_hint() {
    _ns_log "if npm said UNABLE_TO_GET_ISSUER_CERT_LOCALLY, SELF_SIGNED_CERT_IN_CHAIN or"
    _ns_log "  'unable to verify the first certificate', a proxy is re-signing TLS traffic:"
    _ns_log "  put your proxy's CA (PEM) in /usr/local/share/ca-certificates/ and run"
    _ns_log "  update-ca-certificates, or point npm and Node at it directly:"
    _ns_log "    npm config set cafile /path/to/proxy-ca.pem"
    _ns_log "    export NODE_EXTRA_CA_CERTS=/path/to/proxy-ca.pem"
    _ns_log "  (never 'npm config set strict-ssl false'); then run this again."
}

# _ns_runner -> print a working node (any version) able to run npm
_ns_runner() {
    local c
    for c in $(type -ap node nodejs 2>/dev/null) /usr/bin/node /usr/bin/nodejs /usr/local/bin/node; do
        if _ns_node_works "$c"; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

# _ns_apt_node_npm -> install Debian's nodejs and npm, plus ca-certificates for
# npm's TLS to the registry (only what is missing)
_ns_apt_node_npm() {
    local sudo="" pkgs=() p
    for p in nodejs npm ca-certificates; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            pkgs+=("$p")
        fi
    done
    if [ ${#pkgs[@]} -eq 0 ]; then
        _ns_log "nodejs and npm packages are installed but no working npm was found" >&2
        return 1
    fi
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { _ns_log "need root or sudo to install: ${pkgs[*]}"; return 1; }
        sudo="sudo"
    fi
    _ns_log "installing Debian packages: ${pkgs[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null || return 1
}

# _ns_npm NODE ARGS... -> run npm under the given node (first on PATH, so
# npm's "#!/usr/bin/env node" picks it rather than whatever `node` is first).
_ns_npm() {
    local node=$1 shim rc
    shift
    shim=$(mktemp -d) || return 1
    ln -s "$node" "$shim/node"
    # A registry build of node trusts only its bundled CAs; let it also trust
    # the system store (proxies with a local CA), unless the caller chose.
    if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
        NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt PATH="$shim:$PATH" npm "$@"
    else
        PATH="$shim:$PATH" npm "$@"
    fi
    rc=$?
    rm -rf "$shim"
    return $rc
}

# _ns_need_npm -> make sure `npm` exists and print a node that can run it
_ns_need_npm() {
    local runner
    if command -v npm >/dev/null 2>&1 && runner=$(_ns_runner); then
        echo "$runner"
        return 0
    fi
    _ns_apt_node_npm || return 1
    hash -r
    if command -v npm >/dev/null 2>&1 && runner=$(_ns_runner); then
        echo "$runner"
        return 0
    fi
    _ns_log "npm is still not usable after installing Debian's nodejs and npm"
    return 1
}

_ns_main() {
    local repo arch pkg prefix local_node node runner cand="" found fhir lock marker ver
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || return 1
    case "$(uname -m)" in
        x86_64 | amd64) arch=x64 ;;
        aarch64 | arm64) arch=arm64 ;;
        *) arch=unsupported ;;
    esac
    pkg=node-linux-$arch
    prefix=$repo/.tools/node
    local_node=$prefix/node_modules/$pkg/bin/node
    node=""

    # 1. node on PATH
    if cand=$(command -v node 2>/dev/null) && _ns_node_fits "$cand"; then
        node=$(readlink -f "$cand")
    # 2. a registry node fetched earlier
    elif _ns_node_fits "$local_node"; then
        node=$local_node
    # 3. fetch one from the npm registry
    else
        if [ "$arch" = unsupported ]; then
            _ns_log "no suitable node on PATH and no registry build for $(uname -m)"
            return 1
        fi
        if [ -n "$cand" ]; then
            found="$cand is $("$cand" --version 2>/dev/null | head -n 1)"
        else
            found="none on PATH"
        fi
        _ns_log "need node ^20.19.0 || >=22.12.0 ($found); fetching $pkg@$NODE_SETUP_VERSION from the npm registry"
        runner=$(_ns_need_npm) || return 1
        mkdir -p "$prefix" || return 1
        _ns_npm "$runner" install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
            "$pkg@$NODE_SETUP_VERSION" >&2 ||
            { _ns_log "npm install $pkg@$NODE_SETUP_VERSION failed"; _ns_tls_hint; return 1; }
        if ! _ns_node_fits "$local_node"; then
            _ns_log "$local_node is missing or unusable after install"
            return 1
        fi
        node=$local_node
    fi
    ver=$("$node" --version)

    # node_modules for tests/fhir-server
    fhir=$repo/tests/fhir-server
    lock=$fhir/package-lock.json
    marker=$fhir/node_modules/.package-lock.json
    if [ -f "$lock" ] && { [ ! -f "$marker" ] || [ "$lock" -nt "$marker" ]; }; then
        _ns_log "npm ci in tests/fhir-server"
        command -v npm >/dev/null 2>&1 || _ns_need_npm >/dev/null || return 1
        (cd "$fhir" && _ns_npm "$node" ci --no-audit --no-fund --prefer-offline --loglevel=error >&2) ||
            { _ns_log "npm ci in tests/fhir-server failed"; _ns_tls_hint; return 1; }
    fi

    mkdir -p "$repo/.tools" || return 1
    if [ "$(cat "$repo/.tools/node-path" 2>/dev/null)" != "$node" ]; then
        printf '%s\n' "$node" >"$repo/.tools/node-path" || return 1
    fi
    _NS_NODE=$node
    echo "node-setup: node $ver at $node"
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
    # sourced: put the chosen node first on PATH
    if _ns_main; then
        if [ "$(readlink -f "$(command -v node 2>/dev/null)" 2>/dev/null)" != "$_NS_NODE" ]; then
            PATH="${_NS_NODE%/*}:$PATH"
            export PATH
        fi
        export NENFHIR_NODE=$_NS_NODE
        hash -r
        unset _NS_NODE
    else
        return 1
    fi
else
    _ns_main || exit 1
fi
