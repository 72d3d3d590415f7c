#!/bin/sh
# Installs what swift-tune needs on a fresh machine, or prints the exact command when it cannot.
#   Linux (Debian/Ubuntu): OpenBLAS (libopenblas-dev) and SQLite (libsqlite3-dev, for studies kept on disk) through
#   apt-get when run as root.
#   macOS: nothing; Accelerate ships with the system.
set -eu

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
        && [ -e /usr/include/sqlite3.h ]; then
        exit 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "swift-tune needs OpenBLAS and SQLite headers. Install them with your package manager (for example: dnf install openblas-devel sqlite-devel)." >&2
        exit 1
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "swift-tune needs OpenBLAS and SQLite headers. Run:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y libopenblas-dev libsqlite3-dev" >&2
        exit 1
    fi
    echo "Installing OpenBLAS (libopenblas-dev) and SQLite (libsqlite3-dev) with apt-get ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev libsqlite3-dev >/dev/null
    ;;
esac
