#!/bin/sh
# ctest step: builds the core consumer (test_package/core.cpp) with nothing but the flags
# `pkg-config --cflags trustgate` gives, from the installed trustgate.pc only, and runs it.
# The program checks version.hpp against `pkg-config --modversion`.
#   pkg_config_consumer.sh <prefix> <c++ compiler> <source> <work dir>
# Exits 77 (ctest: skipped) when pkg-config is not installed.
set -eu
prefix=$1 cxx=$2 source=$3 work=$4

if ! command -v pkg-config >/dev/null 2>&1; then
    echo "SKIP: pkg-config is not installed (scripts/deps.sh installs it)"
    exit 77
fi
# Only the installed prefix: no system .pc file may answer for trustgate.
PKG_CONFIG_LIBDIR="$prefix/share/pkgconfig"
export PKG_CONFIG_LIBDIR
unset PKG_CONFIG_PATH

cflags=$(pkg-config --cflags trustgate)
version=$(pkg-config --modversion trustgate)
echo "pkg-config --cflags trustgate: $cflags"
mkdir -p "$work"
# shellcheck disable=SC2086  # the flags are a word list
"$cxx" -std=c++20 $cflags "-DTRUSTGATE_EXPECTED_VERSION=\"$version\"" "$source" -o "$work/consume_core_pkg_config"
"$work/consume_core_pkg_config"
