#!/usr/bin/env python3
"""The README's full gateway (readme_gateway.cpp), run: a JSON5 file whose token is a
SecretRef to a file, a reload on SIGHUP that picks up a rotated token, 401 with
WWW-Authenticate before it and after, and a config error that names its JSON path.

    readme_gateway_test.py --binary PATH
Stops every process it starts, by PID."""
import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, token=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Authorization": "Bearer " + token} if token else {}
    connection.request("GET", "/", headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


def wait_until(check, what, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="trustgate-readme-gateway-")
    secret = os.path.join(work, "token")
    config = os.path.join(work, "gateway.json5")
    port = free_port()
    first, second = "first-token-0123456789abcdefghijkl", "second-token-0123456789abcdefghij"
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(first + "\n")
    with open(config, "w") as f:
        f.write("""// JSON5: comments, unquoted keys, trailing commas
{
  gateway: {
    port: %d,
    auth: {mode: 'token', token: {source: 'file', provider: 'tokens', id: 'value'}},
  },
  secrets: {providers: {tokens: {source: 'file', path: '%s', mode: 'singleValue'}}},
}
""" % (port, secret))

    errors = open(os.path.join(work, "stderr"), "w+")
    gateway = subprocess.Popen([args.binary, config], stderr=errors)
    try:
        wait_until(lambda: get(port)[0] == 401, "the gateway to listen")
        status, headers, _ = get(port)
        assert headers.get("WWW-Authenticate") == "Bearer", headers
        status, _, body = get(port, first)
        assert status == 200 and json.loads(body) == {"user": "token"}, (status, body)
        assert get(port, second)[0] == 401

        with open(secret, "w") as f:
            f.write(second + "\n")
        gateway.send_signal(signal.SIGHUP)
        wait_until(lambda: get(port, second)[0] == 200, "the reload to resolve the rotated token")
        assert get(port, first)[0] == 401

        # A broken file keeps the last good configuration, and says why on the audit log.
        with open(config, "w") as f:
            f.write("{gateway: {port: %d, auth: {mode: 'tokn'}}}" % port)
        gateway.send_signal(signal.SIGHUP)
        wait_until(lambda: '"result":"failed"' in open(errors.name).read(), "the failed reload's line")
        assert 'gateway.auth.mode: expected \\"trusted-proxy\\", \\"token\\" or \\"none\\"' in open(errors.name).read()
        assert get(port, second)[0] == 200

        gateway.send_signal(signal.SIGTERM)
        assert gateway.wait(timeout=20) == 0
    finally:
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait()

    bad = subprocess.run([args.binary, config], capture_output=True, text=True, timeout=20)
    assert bad.returncode == 2 and bad.stderr.startswith("config error: gateway.auth.mode: "), bad
    assert open(errors.name).read().count(first) == 0 and open(errors.name).read().count(second) == 0, "a token reached the log"
    print("ok: README gateway served, reloaded a rotated secret, kept the last good configuration, stopped")


if __name__ == "__main__":
    sys.exit(main())
