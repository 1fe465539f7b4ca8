#!/usr/bin/env bash
# Installs the Debian packages trustgate's build, examples and tests use. Idempotent:
# asks apt only for what is missing, and runs `apt-get update` only when it must.
set -euo pipefail

packages=(
  build-essential cmake clang-14 libclang-rt-14-dev libfuzzer-14-dev
  libboost-dev libasio-dev libssl-dev nlohmann-json3-dev
  catch2 librapidcheck-dev libbenchmark-dev libhiredis-dev redis-server redis-tools
  nginx-light caddy apache2-utils squid wrk curl iproute2 procps python3 python3-json5 openssl pkg-config gnuplot-nox
  prometheus chromium chromium-driver python3-selenium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "trustgate: installing ${missing[*]}" >&2
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "trustgate: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the services on install; the tests start their own on free ports.
for service in nginx caddy squid redis-server; do
  "${as_root[@]}" systemctl disable --now "$service" >/dev/null 2>&1 || "${as_root[@]}" service "$service" stop >/dev/null 2>&1 || true
done
