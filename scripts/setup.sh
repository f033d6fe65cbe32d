#!/usr/bin/env bash
# Everything Siamark needs on a fresh Debian / Ubuntu machine, into ./.venv:
#   bash scripts/setup.sh && .venv/bin/python main.py --demo
# 1. a virtualenv (Debian's python3-venv first, if Python has no venv / ensurepip);
# 2. the Python packages: torch pinned to the CPU build (unless .venv already has a torch, e.g. a
#    CUDA build you installed yourself), Siamark and its test tools;
# 3. the system libraries Qt's X11 plugin and OpenCV link against and the wheels do not carry.
#    Which ones are missing is asked of the dynamic linker (app/qt_platform.py, which holds the
#    library -> package list); nothing is installed when nothing is missing.
# Idempotent: run it again after a failed step.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=.venv
export PIP_DISABLE_PIP_VERSION_CHECK=1 DEBIAN_FRONTEND=noninteractive
apt_updated=0

say() { printf '\n== %s\n' "$*"; }

# Runs apt-get as root, through sudo, or explains what to run when neither is possible.
apt_install() {
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "setup: not root and no sudo; as root run: apt-get update && apt-get install -y $*" >&2
            exit 1
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "setup: no apt-get here; install the packages that provide these Debian packages: $*" >&2
        exit 1
    fi
    if [ "$apt_updated" -eq 0 ]; then
        $sudo apt-get update -qq
        apt_updated=1
    fi
    $sudo apt-get install -y -qq --no-install-recommends "$@"
}

"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "setup: Siamark needs Python 3.11 or newer; $PY is $("$PY" --version 2>&1)." >&2
    echo "       Set PYTHON=/path/to/python3.11 and run this again." >&2
    exit 1
}

if [ ! -x "$VENV/bin/python" ]; then
    say "virtualenv $VENV"
    if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        apt_install python3-venv
    fi
    "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"

say "Python packages"
if "$VPY" -c 'import torch' >/dev/null 2>&1; then
    "$VPY" -m pip install -q -e ".[dev]"
else
    # Pinned in the same call, so pip takes the CPU build instead of several GB of CUDA wheels.
    "$VPY" -m pip install -q "torch==2.13.0" -e ".[dev]"
fi

say "system libraries for Qt and OpenCV"
packages=$("$VPY" -m app.qt_platform --missing-packages) || true  # unknown ones: reported below
if [ -n "$packages" ]; then
    echo "installing: $packages"
    # shellcheck disable=SC2086  # one word per package
    apt_install $packages
fi
"$VPY" -m app.qt_platform  # says what is still missing, and fails, if anything is

say "done: run the demo with  $VPY main.py --demo  and the tests with  $VPY -m pytest"
