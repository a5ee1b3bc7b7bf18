#!/usr/bin/env bash
# Set up everything the tests need on this machine, then run them: the README's test command,
# and exactly what CI runs (.ci/run calls this script).
#
#   scripts/test.sh                 the whole suite, then the oldest supported libraries
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
# The benchmark's Node cluster baseline (socket.io, its cluster adapter), for its smoke test.
(cd bench/node && npm ci --no-audit --no-fund --silent)

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -e '.[test]'

if (($#)); then
    exec .venv/bin/pytest -q "$@"
fi
# Types first: a type error fails in seconds, before minutes of tests.
.venv/bin/mypy
.venv/bin/pytest -q

# The oldest uvicorn that pyproject.toml admits: sockd/worker/hosting/uvicorn_adapter.py uses
# uvicorn internals, so the hand-off and the direct WebSocket write (including a slow
# reader's paused transport) are tested at both ends of the supported range.
UVICORN_MIN=$(sed -n 's/.*"uvicorn>=\([0-9.]*\),.*/\1/p' pyproject.toml)
[ -x .venv-uvicorn-min/bin/python ] || python3 -m venv .venv-uvicorn-min
.venv-uvicorn-min/bin/pip install -q -e '.[test]' "uvicorn==${UVICORN_MIN}"
.venv-uvicorn-min/bin/python -c "import uvicorn; print('uvicorn', uvicorn.__version__)"
.venv-uvicorn-min/bin/pytest -q tests/e2e/test_transports.py tests/e2e/test_graceful_stop.py \
    tests/e2e/test_behind_proxies.py tests/e2e/test_tls_workers.py tests/e2e/test_slow_reader.py
