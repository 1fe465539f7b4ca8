#!/bin/sh
# ctest step: scripts/release on HEAD makes a tarball and a versioned port; the port must
# name that tarball's SHA512, and the tarball alone must install (nothing the build needs
# is left out of `git archive`).
#   release_port.sh <source dir> <work dir> <cmake> <generator> <c++ compiler>
# Exits 77 (ctest: skipped) outside a git checkout.
set -eu
source=$1 work=$2 cmake=$3 generator=$4 cxx=$5
if ! git -C "$source" rev-parse --verify --quiet HEAD >/dev/null 2>&1; then
  echo "SKIP: $source is not a git checkout"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
version=$(sed -n 's/^project(trustgate VERSION \([0-9.]*\) .*/\1/p' "$source/CMakeLists.txt")
tarball=$work/dist/trustgate-$version.tar.gz
"$source/scripts/release" "file://$tarball" --ref HEAD --out "$work/dist" >/dev/null
sha=$(sha512sum "$tarball" | cut -d' ' -f1)
port=$work/dist/ports/trustgate/portfile.cmake
grep -q "^  SHA512 $sha)\$" "$port" || { echo "FAIL: $port does not name SHA512 $sha"; cat "$port"; exit 1; }
grep -q '^  URLS "file://' "$port" || { echo "FAIL: $port has no URLS line"; exit 1; }
if grep -q 'CMAKE_CURRENT_LIST_DIR}/\.\./\.\.' "$port"; then echo "FAIL: $port still builds from a checkout"; exit 1; fi

tar -xzf "$tarball" -C "$work"
extracted=$work/$(basename "$tarball" .tar.gz)
"$cmake" -S "$extracted" -B "$work/build" -G "$generator" -DCMAKE_CXX_COMPILER="$cxx" \
  -DTRUSTGATE_BUILD_TESTS=OFF -DTRUSTGATE_BUILD_EXAMPLES=OFF -DTRUSTGATE_BUILD_BENCHMARKS=OFF >/dev/null
"$cmake" --install "$work/build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/trustgate/trustgate.hpp" || { echo "FAIL: the tarball installs no headers"; exit 1; }
test -f "$work/prefix/share/trustgate/trustgate-config.cmake" || { echo "FAIL: the tarball installs no package config"; ls -R "$work/prefix/share"; exit 1; }
echo "release tarball $(basename "$tarball") installs; port names its SHA512"
