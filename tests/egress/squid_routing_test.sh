#!/usr/bin/env bash
# Outbound routing against a real squid configured from `trustgate-egress export`.
#
#   squid_routing_test.sh TRUSTGATE_EGRESS TEST_HOST_PY
#
# Two network namespaces of our own, joined by a veth pair:
#   proxy ns: squid on 127.0.0.1:3128, the client, and canary listeners on 127.0.0.1
#             and 169.254.169.254 (an address on this namespace's own lo) that log
#             every connection, so "denied" also means "nothing was sent there";
#   host ns:  the test host 198.19.0.2 (benchmark range, allowed in this test),
#             HTTP and WebSocket on 8080, HTTPS and WSS on 8443.
# Neither namespace has a route anywhere else. Names come from /etc/netns/<ns>/hosts,
# which `ip netns exec` mounts over /etc/hosts. Exits 77 (skip) without root or tools.
set -euo pipefail

egress=$1
test_host=$2
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
for tool in ip squid python3 openssl curl; do
  command -v "$tool" >/dev/null || skip "needs $tool"
done

tag="tgeg$$"
proxy_ns="${tag}p"
host_ns="${tag}h"
work=$(mktemp -d /tmp/trustgate-egress.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  ip netns del "$proxy_ns" 2>/dev/null || true
  ip netns del "$host_ns" 2>/dev/null || true
  rm -rf "/etc/netns/$proxy_ns" "$work"
}
trap cleanup EXIT
ip netns add "$proxy_ns" 2>/dev/null || skip "cannot create network namespaces here"
ip netns add "$host_ns"
in_proxy() { ip netns exec "$proxy_ns" "$@"; }
in_host() { ip netns exec "$host_ns" "$@"; }

in_proxy ip link set lo up
in_host ip link set lo up
ip link add "${tag}a" netns "$proxy_ns" type veth peer name "${tag}b" netns "$host_ns"
in_proxy ip addr add 198.19.0.1/30 dev "${tag}a"
in_host ip addr add 198.19.0.2/30 dev "${tag}b"
in_proxy ip link set "${tag}a" up
in_host ip link set "${tag}b" up
in_proxy ip addr add 169.254.169.254/32 dev lo

mkdir -p "/etc/netns/$proxy_ns"
cat >"/etc/netns/$proxy_ns/hosts" <<EOF
127.0.0.1 localhost
198.19.0.2 testhost.example
127.0.0.1 rebind.example
169.254.169.254 metadata.example
198.19.0.2 split.example
127.0.0.1 split.example
EOF

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=testhost.example -addext "subjectAltName=DNS:testhost.example,IP:198.19.0.2" \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

start_servers() {  # NS LOG ARGS...
  local ns=$1 log=$2 ready="$work/ready.$RANDOM"
  shift 2
  ip netns exec "$ns" python3 "$test_host" "$log" --cert "$work/cert.pem" --key "$work/key.pem" "$@" >"$ready" &
  pids+=($!)
  for _ in $(seq 100); do grep -q ready "$ready" 2>/dev/null && return; sleep 0.05; done
  echo "test servers in $ns did not start"; exit 1
}
touch "$work/host.log" "$work/canary.log"
start_servers "$host_ns" "$work/host.log" --http 198.19.0.2:8080 --https 198.19.0.2:8443
start_servers "$proxy_ns" "$work/canary.log" --http 127.0.0.1:80 --http 169.254.169.254:80 \
  --https 127.0.0.1:443 --http 127.0.0.1:18789

"$egress" export --format squid --allow-benchmark >"$work/policy.conf"
cat >"$work/squid.conf" <<EOF
http_port 127.0.0.1:3128
visible_hostname trustgate-egress-test
pid_filename $work/squid.pid
cache_log $work/cache.log
access_log stdio:$work/access.log
cache_store_log none
cache deny all
cache_mem 4 MB
coredump_dir $work
netdb_filename none
pinger_enable off
dns_nameservers 127.0.0.1
dns_timeout 2 seconds
shutdown_lifetime 0 seconds
include $work/policy.conf
# ws:// goes through CONNECT too (as browsers do), so the test host's 8080 is a tunnel port.
acl tunnel_ports port 443 8443 8080
http_access deny CONNECT !tunnel_ports
acl test_client src 127.0.0.1/32 ::1
http_access allow test_client
http_access deny all
EOF
chown -R proxy:proxy "$work"

failures=0
check() {  # DESCRIPTION COMMAND...: the command must succeed
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; failures=$((failures + 1)); fi
}
contains() { grep -qF -- "$2" <<<"$1"; }
lacks() { ! grep -qF -- "$2" <<<"$1"; }
canary_untouched() { [ ! -s "$work/canary.log" ]; }

check "squid loads the exported policy (squid -k parse)" squid -k parse -f "$work/squid.conf" 2>"$work/parse.log"

# `ip netns exec` execs squid, so $! is squid itself (a shell function here would fork).
ip netns exec "$proxy_ns" squid -N -f "$work/squid.conf" 2>>"$work/squid.stderr" &
pids+=($!)
for _ in $(seq 100); do
  in_proxy curl -s -o /dev/null --max-time 1 http://127.0.0.1:3128/ && break
  sleep 0.1
done

proxy=http://127.0.0.1:3128
via_curl() {  # URL [CURL ARGS...]: prints status code and X-Squid-Error
  local url=$1
  shift
  in_proxy curl -s -o /dev/null -D - --max-time 10 -x "$proxy" "$@" "$url" | tr -d '\r' |
    awk 'NR == 1 {print $2} tolower($1) == "x-squid-error:" {print $2}' | tr '\n' ' ' || true
}

# squid itself, from the exported policy.
check "squid forwards to the allowed test host" contains "$(via_curl http://198.19.0.2:8080/)" "200"
check "squid forwards to an allowed name" contains "$(via_curl http://testhost.example:8080/)" "200"
for url in http://127.0.0.1/ http://169.254.169.254/ http://rebind.example/ http://metadata.example/ \
           "http://[::ffff:127.0.0.1]/" http://metadata.google.internal/ http://app.localhost/ http://printer.local/; do
  check "squid denies $url by policy" contains "$(via_curl "$url")" "403 ERR_ACCESS_DENIED"
done
for url in http://127.1/ http://2130706433/ http://0x7f.0.0.1/ http://0177.0.0.1/; do
  check "squid does not serve non-canonical $url" lacks "$(via_curl "$url")" "200"
done
check "squid's CONNECT tunnel reaches the test host" \
  contains "$(via_curl https://198.19.0.2:8443/ --cacert "$work/cert.pem")" "200"
check "squid refuses CONNECT to 127.0.0.1:443" \
  contains "$(in_proxy curl -s -o /dev/null -w '%{http_connect}' --max-time 10 -x "$proxy" -k https://127.0.0.1/ || true)" "403"
check "nothing reached 127.0.0.1 or 169.254.169.254" canary_untouched

# nginx: the exported geo block as nginx itself judges it (it answers, never forwards).
if command -v nginx >/dev/null; then
  "$egress" export --format nginx --allow-benchmark >"$work/nginx-policy.conf"
  mkdir "$work/nginx"
  cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 16; }
http {
  access_log off;
  include $work/nginx-policy.conf;
  server {
    listen 127.0.0.1:3129;
    location / {
      if (\$trustgate_egress_blocked) { return 403; }
      return 204;
    }
  }
}
EOF
  check "nginx loads the exported policy (nginx -t)" nginx -t -q -p "$work/nginx" -c "$work/nginx/nginx.conf"
  ip netns exec "$proxy_ns" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
  pids+=($!)
  for _ in $(seq 50); do
    in_proxy curl -s -o /dev/null --max-time 1 http://127.0.0.1:3129/ && break
    sleep 0.1
  done
  for case in "http://198.19.0.2:8080/ 204" "http://127.0.0.1/ 403" "http://169.254.169.254/ 403" \
              "http://[::ffff:127.0.0.1]/ 403" "http://127.1/ 403" "http://testhost.example/ 403"; do
    read -r url code <<<"$case"
    check "nginx policy: $url -> $code" \
      [ "$(in_proxy curl -s -o /dev/null -w '%{http_code}' --max-time 5 -x http://127.0.0.1:3129 "$url")" = "$code" ]
  done
else
  echo "skip nginx checks: nginx is not installed"
fi

# The trustgate client through squid.
run() {  # runs trustgate-egress in the proxy namespace; prints its stdout and stderr
  in_proxy env -u TRUSTGATE_PROXY_URL "$egress" "$@" 2>&1 || echo "exit=$?"
}
out=$(run fetch --proxy-url "$proxy" --allow-benchmark http://198.19.0.2:8080/plain)
check "client: plain HTTP in absolute form via squid" contains "$out" "hello from 198.19.0.2:8080 /plain"
check "client: squid saw the absolute-form request" grep -qF "GET http://198.19.0.2:8080/plain" "$work/access.log"
out=$(run fetch --proxy-url "$proxy" --allow-benchmark --ca-file "$work/cert.pem" https://198.19.0.2:8443/tls)
check "client: HTTPS through a CONNECT tunnel" contains "$out" "hello from 198.19.0.2:8443 /tls"
check "client: squid saw the CONNECT" grep -qF "CONNECT 198.19.0.2:8443" "$work/access.log"
out=$(TRUSTGATE_PROXY_URL=$proxy in_proxy "$egress" fetch --proxy --ca-file "$work/cert.pem" \
  https://testhost.example:8443/name 2>&1 || true)
check "client: HTTPS to a name via \$TRUSTGATE_PROXY_URL, certificate checked" contains "$out" "hello from 198.19.0.2:8443 /name"
out=$(run websocket --proxy-url "$proxy" --allow-benchmark ws://198.19.0.2:8080/ws "ping over ws")
check "client: WebSocket through a CONNECT tunnel" contains "$out" "ping over ws"
out=$(run websocket --proxy-url "$proxy" --allow-benchmark --ca-file "$work/cert.pem" wss://198.19.0.2:8443/ws "ping over wss")
check "client: secure WebSocket through a CONNECT tunnel" contains "$out" "ping over wss"
out=$(run fetch --proxy-url "$proxy" --ca-file "$work/cert.pem" https://rebind.example/)
check "client: squid refuses a name that resolves to loopback" contains "$out" "proxy_refused"
before=$(wc -l <"$work/access.log")
out=$(run fetch --proxy-url "$proxy" http://127.0.0.1/)
check "client: a blocked literal is refused before the proxy" contains "$out" "blocked: 127.0.0.1: 127.0.0.0/8"
out=$(run fetch --proxy-url "$proxy" http://169.254.169.254/latest/meta-data/)
check "client: the metadata address is refused before the proxy" contains "$out" "blocked: 169.254.169.254"
check "client: squid never saw the refused requests" [ "$(wc -l <"$work/access.log")" -eq "$before" ]
check "nothing reached 127.0.0.1 or 169.254.169.254" canary_untouched

# The gateway control plane: direct to a literal loopback address only.
out=$(run fetch --proxy-url "$proxy" --gateway http://127.0.0.1:18789/gw)
check "client: gateway control plane goes direct to 127.0.0.1" contains "$out" "hello from 127.0.0.1:18789 /gw"
check "client: ...and not through squid" bash -c "! grep -q 18789 '$work/access.log'"
out=$(run fetch --proxy-url "$proxy" --gateway http://localhost:18789/gw)
check "client: localhost is a name, not the gateway path" contains "$out" "blocked: localhost"
: >"$work/canary.log"

# No proxy: resolve, classify every address, connect to checked addresses only.
out=$(run fetch --allow-benchmark http://testhost.example:8080/direct)
check "client: direct to a checked address" contains "$out" "hello from 198.19.0.2:8080 /direct"
out=$(run fetch http://testhost.example:8080/direct)
check "client: direct refuses a name resolving to a blocked range" contains "$out" "resolves to 198.19.0.2: 198.18.0.0/15"
out=$(run fetch --allow-benchmark http://split.example:18789/)
check "client: one blocked address among the answers refuses the name" contains "$out" "resolves to 127.0.0.1"
check "nothing reached 127.0.0.1 or 169.254.169.254" canary_untouched

# Proxy URLs with credentials are refused, and never printed.
secret=hunter2
out=$(run fetch --proxy-url "http://user:$secret@127.0.0.1:3128" http://198.19.0.2:8080/)
check "credentials in --proxy-url: a config error at start-up" contains "$out" "config error: proxy.proxyUrl"
check "credentials in --proxy-url: redacted" lacks "$out" "$secret"
out=$(TRUSTGATE_PROXY_URL="http://user:$secret@127.0.0.1:3128/?token=$secret" in_proxy "$egress" fetch --proxy \
  http://198.19.0.2:8080/ 2>&1 || true)
check "credentials in \$TRUSTGATE_PROXY_URL: a config error" contains "$out" "TRUSTGATE_PROXY_URL is http://***@127.0.0.1:3128/***"
check "credentials in \$TRUSTGATE_PROXY_URL: redacted" lacks "$out" "$secret"
out=$(run fetch --proxy http://198.19.0.2:8080/)
check "proxy enabled without a URL fails, no direct fallback" contains "$out" "never falls back to direct"
check "no secret in squid's logs" bash -c "! grep -rqF '$secret' '$work'/*.log"

if [ "$failures" -ne 0 ]; then
  echo "--- squid cache.log"; tail -n 20 "$work/cache.log" || true
  echo "--- squid access.log"; cat "$work/access.log" || true
  echo "$failures check(s) failed"
  exit 1
fi
echo "all egress routing checks passed"
