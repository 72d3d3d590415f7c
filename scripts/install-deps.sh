#!/bin/sh
# Installs what swift-tune needs on a fresh machine, or prints the exact command when it cannot.
#   Linux (Debian/Ubuntu): OpenBLAS (libopenblas-dev) and SQLite (libsqlite3-dev, for studies kept on disk), and with
#   --tests the PostgreSQL server (postgresql: the tests start a scratch server of their own to check studies kept
#   there) and faketime (a process with its clock an hour ahead), through apt-get when run as root.
#   macOS: nothing; Accelerate ships with the system.
set -eu

packages="libopenblas-dev libsqlite3-dev"
test_tools_ok=1
if [ "${1:-}" = "--tests" ] && [ "$(uname -s)" = Linux ]; then
    if [ -z "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null)" ]; then
        packages="$packages postgresql"
        test_tools_ok=0
    fi
    if ! command -v faketime >/dev/null 2>&1; then
        packages="$packages faketime"
        test_tools_ok=0
    fi
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "swift-tune needs a Swift 6 toolchain: see https://www.swift.org/install/ and put 'swift' on PATH." >&2
    exit 1
fi

case "$(uname -s)" in
Darwin)
    exit 0
    ;;
Linux)
    if ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\.0' && [ -e /usr/include/x86_64-linux-gnu/cblas.h -o -e /usr/include/cblas.h -o -e /usr/include/openblas/cblas.h -o -n "$(ls /usr/include/*/cblas*.h 2>/dev/null)" ] \
        && [ -e /usr/include/sqlite3.h ] && [ $test_tools_ok = 1 ]; then
        exit 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "swift-tune needs OpenBLAS and SQLite headers, and its tests a PostgreSQL server. Install them with your package manager (for example: dnf install openblas-devel sqlite-devel postgresql-server)." >&2
        exit 1
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "swift-tune needs OpenBLAS and SQLite headers, and its tests a PostgreSQL server. Run:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y $packages" >&2
        exit 1
    fi
    echo "Installing $packages with apt-get ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
    ;;
esac
