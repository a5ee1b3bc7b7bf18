#!/usr/bin/env bash
# Set up everything the tests need on this machine, then run them: the README's test command,
# and exactly what CI runs (.ci/run calls this script).
#
#   scripts/test.sh                 the whole suite, then again on the lowest supported libraries
#   scripts/test.sh tests/unit      only what you name (any pytest arguments)
#
# System packages that are missing are installed with apt-get (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# nginx with its stream module: the ip_hash baseline and the proxy tests (PROXY protocol).
if ! command -v nginx >/dev/null 2>&1 || [ ! -e /usr/lib/nginx/modules/ngx_stream_module.so ]; then
    missing+=(nginx libnginx-mod-stream)
fi
# node and npm run the official JavaScript client (tests/js) and the benchmark's Node baseline.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# Debian's chromium: tests/e2e/test_chat_browser.py drives it through playwright (a test
# extra), with this binary; playwright's own browser download is never used.
[ -x /usr/bin/chromium ] || missing+=(chromium)
# HAProxy in front of the test hosts (network namespaces made with ip) of tests/e2e/multihost.
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing+=(iproute2)
# A real Prometheus scrapes sockd's --metrics (tests/e2e/test_prometheus.py); tmux runs
# `sockd top` in a terminal (tests/e2e/test_top.py).
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)

if ((${#missing[@]})); then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "scripts/test.sh: missing system packages: ${missing[*]}" >&2
            echo "scripts/test.sh: install them as root: apt-get install -y ${missing[*]}" >&2
            exit 1
        fi
        sudo=(sudo)
    fi
    echo "scripts/test.sh: installing ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

(cd tests/js && npm ci --no-audit --no-fund --silent)

# The official Engine.IO and Socket.IO protocol test suites (tests/e2e/test_official_suites.py)
# are not published on any package registry, only in their GitHub repositories, which this
# script does not reach (CI reaches the package registries alone). With PROTOCOL_SUITES_FROM
# naming a copy of those repositories' tarballs (a directory, or a URL serving
# NAME/tar.gz/COMMIT), they are unpacked at these commits into tests/js/protocol-suites/
# (ignored by git) and installed from their own lockfiles; without it their test skips with
# one line.
fetch_suite() {
    local name=$1 commit=$2 dir=tests/js/protocol-suites/$1
    if [ "$(cat "$dir/.commit" 2>/dev/null)" != "$commit" ]; then
        rm -rf "$dir" && mkdir -p "$dir"
        local source=$PROTOCOL_SUITES_FROM/$name/tar.gz/$commit
        if [ -f "$source" ]; then
            tar -xzf "$source" -C "$dir" --strip-components=1
        elif ! curl -fsSL --max-time 60 "$source" | tar -xz -C "$dir" --strip-components=1; then
            echo "scripts/test.sh: could not fetch the $name test suite from $source" >&2
            rm -rf "$dir"
            return 0
        fi
        echo "$commit" >"$dir/.commit"
    fi
    (cd "$dir/test-suite" && npm ci --no-audit --no-fund --silent)
}
if [ -n "${PROTOCOL_SUITES_FROM:-}" ]; then
    fetch_suite engine.io-protocol f21de7b00ed09b3bbad2807db718ea5d6bc36aba
    fetch_suite socket.io-protocol 4f633dd6a4445492d57af3b27ddd2d336014f1f1
fi
# The benchmark's Node cluster baseline (socket.io, its cluster adapter), for its smoke test.
(cd bench/node && npm ci --no-audit --no-fund --silent)

[ -x .venv/bin/python ] || python3 -m venv .venv
# The newest releases pyproject.toml admits of the libraries sockd/worker/compat/ changes.
.venv/bin/pip install -q -e '.[test]' --upgrade python-socketio python-engineio uvicorn

if (($#)); then
    exec .venv/bin/pytest -q "$@"
fi
# Types first: a type error fails in seconds, before minutes of tests. Then the fast layer,
# then the end-to-end tests in two processes (each module, and the multi-host package, stays
# in one; ports and loopback addresses are split between them: tests/conftest.py).
.venv/bin/mypy
.venv/bin/pytest -q tests/unit
.venv/bin/pytest -q -n 2 --dist loadgroup tests/e2e

# The lowest releases of the libraries whose internals sockd changes, in a venv of their own:
# pyproject.toml admits exactly the range sockd/worker/compat/entries/ (TESTED) is tested
# with, so the main venv above gets the newest (pip's default) and this one the lowest. It
# runs the unit layer and the tests of what the compat entries touch: the protocols, the
# hand-off and the transports, connection state recovery, the direct WebSocket write (slow
# reader), TLS, the Admin UI's re-instrumentation (~1 minute).
lowest() { sed -n "s/.*\"$1>=\([0-9.]*\),.*/$1==\1/p" pyproject.toml; }
[ -x .venv-lowest/bin/python ] || python3 -m venv .venv-lowest
.venv-lowest/bin/pip install -q -e '.[test]' \
    "$(lowest python-socketio)" "$(lowest python-engineio)" "$(lowest uvicorn)"
.venv-lowest/bin/pip list 2>/dev/null | grep -E '^(python-socketio|python-engineio|uvicorn) '
.venv-lowest/bin/pytest -q -n 2 --dist loadgroup tests/unit tests/e2e/test_protocol_conformance.py \
    tests/e2e/test_protocol_socketio.py tests/e2e/test_protocol_reconnect.py \
    tests/e2e/test_protocol_recovery.py \
    tests/e2e/test_protocol_edge.py tests/e2e/test_official_suites.py tests/e2e/test_edge_worker.py \
    tests/e2e/test_transports.py tests/e2e/test_graceful_stop.py tests/e2e/test_behind_proxies.py \
    tests/e2e/test_slow_reader.py tests/e2e/test_tls_workers.py tests/e2e/test_admin_ui.py
