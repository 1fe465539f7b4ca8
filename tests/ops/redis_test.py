#!/usr/bin/env python3
"""gateway.auth.rateLimit.store with a real redis-server (behaviour §12, §8 invariant 12):
three gateways sharing it lock a client out after maxAttempts failures in all, attempts
spread round-robin; Redis paused, killed and restarted mid-run under both onError modes
(no crash, no attempt waits much longer than timeoutMs, counting resumes); requirepass
with the password by SecretRef, never in a log; --check-config never contacts Redis."""

import os
import signal
import socket
import subprocess
import time
import unittest

import ops
from ops import Gateway, bearer, harness

ARGS = harness.arguments()
DIR = harness.work_dir()

TOKEN = "redis-test-token-5b8e1f0c9d2a47e3"
PASSWORD = "redis-pass-8c1d3e5f7a9b40c2d4e6f8a0b1c3d5e7"
os.environ["TG_OPS_REDIS_PASSWORD"] = PASSWORD  # the gateways inherit it
# Above the default 50 so that a loaded CI machine's slow round trip is not an outage.
TIMEOUT_MS = 200
# What an attempt may take beyond timeoutMs: an HTTP round trip on a busy test machine.
MARGIN_S = 0.45
MAX_ATTEMPTS = 5


class RedisServer:
    """Debian's redis-server on a free loopback port in its own directory; stopped by pid."""

    def __init__(self, password=None, port=None, start=True):
        harness.require_tools("redis-server", "redis-cli")
        self.port = port or harness.free_port()
        self.dir = ops.private_dir(DIR)
        self.password = password
        self.proc = None
        harness.at_exit(self.stop)
        if start:
            self.start()

    def start(self):
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.dir]
        if self.password:
            argv += ["--requirepass", self.password]
        self.proc = harness.spawn(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        harness.wait_for_port("127.0.0.1", self.port)

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            harness.stop(self.proc)

    def cli(self, *args):
        argv = ["redis-cli", "-p", str(self.port)] + list(args)
        env = dict(os.environ, REDISCLI_AUTH=self.password) if self.password else None
        return subprocess.run(argv, capture_output=True, text=True, timeout=10, env=env).stdout.strip()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


def config(redis_url, on_error="deny", password=None, prefix="trustgate:"):
    store = {"type": "redis", "url": redis_url, "keyPrefix": prefix, "timeoutMs": TIMEOUT_MS, "onError": on_error}
    if password is not None:
        store["password"] = password
    return {"gateway": {"port": 0, "auth": {
        "mode": "token", "token": TOKEN, "exposeReasons": True,
        "rateLimit": {"maxAttempts": MAX_ATTEMPTS, "windowMs": 60_000, "lockoutMs": 60_000, "exemptLoopback": False,
                      "store": store}}}}


def attempt(gateway, source, token="wrong-token"):
    """One token attempt from `source` (a loopback address); (response, seconds taken)."""
    start = time.monotonic()
    res = harness.request("GET", "127.0.0.1", gateway.port, "/whoami", bearer(token), source=source)
    return res, time.monotonic() - start


def reason(res):
    return res.json()["error"].get("reason")


class SharedRedis(unittest.TestCase):
    def start_gateways(self, redis, n=3, **kwargs):
        gateways = [Gateway(ARGS.gateway, config(redis.url, **kwargs), DIR) for _ in range(n)]
        for gw in gateways:
            self.addCleanup(gw.kill)
        return gateways

    def assert_counts_together(self, gateways, source):
        """maxAttempts failures spread round-robin lock `source` out on every gateway."""
        for i in range(MAX_ATTEMPTS):
            res, _ = attempt(gateways[i % len(gateways)], source)
            self.assertEqual((res.status, reason(res)), (401, "token_mismatch"), f"attempt {i + 1} from {source}")
        for gw in gateways:
            res, _ = attempt(gw, source, TOKEN)
            self.assertEqual((res.status, reason(res)), (429, "rate_limited"), "the right token is refused while locked out")
            self.assertGreater(int(res.headers["retry-after"]), 0)

    def wait_until_counting(self, gateway, source, timeout=5.0):
        """Seconds until an attempt is counted again (a 401), at most `timeout`."""
        start = time.monotonic()
        while True:
            res, _ = attempt(gateway, source)
            if res.status == 401:
                return time.monotonic() - start
            self.assertLess(time.monotonic() - start, timeout, f"still {res.status} {res.body}")
            time.sleep(0.05)

    def test_three_gateways_lock_a_client_out_as_one_would(self):
        redis = RedisServer()
        gateways = self.start_gateways(redis)
        for gw in gateways:  # the connections come up by themselves
            self.wait_until_counting(gw, "127.0.0.9")
        self.assert_counts_together(gateways, "127.0.0.2")
        self.assertNotEqual(redis.cli("GET", "trustgate:lock:127.0.0.2"), "")
        # Another client is unaffected, and a success clears its failures everywhere.
        for i in range(MAX_ATTEMPTS - 1):
            self.assertEqual(attempt(gateways[i % 3], "127.0.0.3")[0].status, 401)
        self.assertEqual(attempt(gateways[1], "127.0.0.3", TOKEN)[0].status, 200)
        for i in range(MAX_ATTEMPTS - 1):
            self.assertEqual(attempt(gateways[(i + 2) % 3], "127.0.0.3")[0].status, 401)
        self.assertEqual(attempt(gateways[0], "127.0.0.3", TOKEN)[0].status, 200)
        # Header-less paths never consult the store.
        self.assertEqual(harness.request("GET", "127.0.0.1", gateways[0].port, "/healthz").status, 200)

    def test_deny_mode_survives_pause_kill_and_restart(self):
        redis = RedisServer()
        gateways = self.start_gateways(redis, on_error="deny")
        self.wait_until_counting(gateways[0], "127.0.0.10")

        redis.pause()
        try:
            for i in range(12):
                res, took = attempt(gateways[i % 3], "127.0.0.4")
                self.assertEqual((res.status, reason(res)), (429, "rate_limited"), res.body)
                self.assertNotIn("retry-after", res.headers, "store_unavailable has no lockout to wait for")
                self.assertLess(took, TIMEOUT_MS / 1000 + MARGIN_S, f"attempt {i + 1} waited {took:.3f}s")
            self.assertEqual(harness.request("GET", "127.0.0.1", gateways[1].port, "/healthz").status, 200)
        finally:
            redis.resume()
        self.assertIn("store_unavailable", [d.get("detail") for d in gateways[0].decisions()])
        for gw in gateways:
            self.wait_until_counting(gw, "127.0.0.11")

        redis.kill()
        for i in range(6):
            res, took = attempt(gateways[i % 3], "127.0.0.5")
            self.assertEqual((res.status, reason(res)), (429, "rate_limited"))
            self.assertLess(took, TIMEOUT_MS / 1000 + MARGIN_S)
        time.sleep(2.5)  # an outage long enough for the once-a-second log limit to matter
        redis.start()
        returned = time.monotonic()
        for gw in gateways:
            self.wait_until_counting(gw, "127.0.0.12", timeout=5.0 - (time.monotonic() - returned))
        self.assert_counts_together(gateways, "127.0.0.6")

        for gw in gateways:
            self.assertIsNone(gw.proc.poll(), "the gateway is still running")
            store_lines = [line for line in gw.lines if line.get("event") == "limiter_store"]
            self.assertTrue(any("unavailable" in line["message"] for line in store_lines), store_lines)
            self.assertTrue(any("available again" in line["message"] for line in store_lines), store_lines)
            times = [line["time"] for line in store_lines]
            # At most one line a second: never two within the same second twice over.
            per_second = {}
            for t in times:
                per_second[t[:19]] = per_second.get(t[:19], 0) + 1
            self.assertLessEqual(max(per_second.values()), 2, store_lines)
            self.assertLessEqual(len(store_lines), 12, store_lines)

    def test_local_mode_counts_in_memory_while_redis_is_down(self):
        redis = RedisServer()
        gateways = self.start_gateways(redis, on_error="local")
        self.wait_until_counting(gateways[0], "127.0.0.13")
        redis.pause()
        try:
            # Each gateway now counts on its own: maxAttempts failures on one lock it there.
            for i in range(MAX_ATTEMPTS):
                res, took = attempt(gateways[0], "127.0.0.7")
                self.assertEqual((res.status, reason(res)), (401, "token_mismatch"))
                self.assertLess(took, TIMEOUT_MS / 1000 + MARGIN_S)
            res, took = attempt(gateways[0], "127.0.0.7")
            self.assertEqual((res.status, reason(res)), (429, "rate_limited"))
            self.assertIn("retry-after", res.headers)
            self.assertEqual(attempt(gateways[1], "127.0.0.7", TOKEN)[0].status, 200)
        finally:
            redis.resume()
        for gw in gateways:
            self.wait_until_counting(gw, "127.0.0.14")
        redis.kill()
        res, took = attempt(gateways[2], "127.0.0.8")
        self.assertEqual((res.status, reason(res)), (401, "token_mismatch"))
        self.assertLess(took, TIMEOUT_MS / 1000 + MARGIN_S)
        # A 401 does not tell shared counting from local here: the log does.
        seen = [len(self.back_lines(gw)) for gw in gateways]
        redis.start()
        returned = time.monotonic()
        for gw, before in zip(gateways, seen):
            gw.wait_for(lambda line, gw=gw, before=before: len(self.back_lines(gw)) > before, timeout=5.0)
        self.assertLess(time.monotonic() - returned, 5.0)
        self.assert_counts_together(gateways, "127.0.0.16")

    @staticmethod
    def back_lines(gateway):
        return [line for line in gateway.lines
                if line.get("event") == "limiter_store" and "available again" in line.get("message", "")]

    def test_password_by_secret_ref_never_reaches_a_log(self):
        redis = RedisServer(password=PASSWORD)
        ref = {"source": "env", "provider": "default", "id": "TG_OPS_REDIS_PASSWORD"}
        gateways = self.start_gateways(redis, password=ref)
        for gw in gateways:
            self.wait_until_counting(gw, "127.0.0.17")
        self.assert_counts_together(gateways, "127.0.0.18")
        self.assertNotEqual(redis.cli("GET", "trustgate:lock:127.0.0.18"), "")

        wrong = Gateway(ARGS.gateway, config(redis.url, password="not-the-password-1f2e3d"), DIR)
        self.addCleanup(wrong.kill)
        res, _ = attempt(wrong, "127.0.0.19")
        self.assertEqual((res.status, reason(res)), (429, "rate_limited"))
        wrong.wait_for(lambda line: line.get("event") == "limiter_store" and "WRONGPASS" in line.get("message", ""))
        for gw in gateways + [wrong]:
            text = gw.log_text()
            self.assertNotIn(PASSWORD, text)
            self.assertNotIn("not-the-password-1f2e3d", text)

    def test_starts_while_redis_is_down_and_shares_counting_once_it_is_up(self):
        redis = RedisServer(start=False)
        gateways = [Gateway(ARGS.gateway, config(redis.url), DIR) for _ in range(2)]
        for gw in gateways:
            self.addCleanup(gw.kill)
        res, took = attempt(gateways[0], "127.0.0.20")
        self.assertEqual((res.status, reason(res)), (429, "rate_limited"))
        self.assertLess(took, TIMEOUT_MS / 1000 + MARGIN_S)
        redis.start()
        for gw in gateways:
            self.assertLess(self.wait_until_counting(gw, "127.0.0.21"), 5.0)

    def test_check_config_never_contacts_redis(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(8)
            listener.settimeout(0.5)
            url = f"redis://127.0.0.1:{listener.getsockname()[1]}/3"
            done = ops.check_config(ARGS.gateway, config(url), DIR)
            self.assertEqual(done.returncode, 0, done.stderr)
            with self.assertRaises(socket.timeout):
                listener.accept()

    def test_bad_store_settings_are_config_errors(self):
        cases = [
            ({"type": "redis"}, "gateway.auth.rateLimit.store.url"),
            ({"type": "redis", "url": "http://127.0.0.1:6379"}, "gateway.auth.rateLimit.store.url"),
            ({"type": "redis", "url": "redis://user:secretpw@127.0.0.1:6379"}, "gateway.auth.rateLimit.store.url"),
            ({"type": "redis", "url": "redis://127.0.0.1:6379/x"}, "gateway.auth.rateLimit.store.url"),
            ({"type": "redis", "url": "redis://127.0.0.1", "timeoutMs": 0}, "gateway.auth.rateLimit.store.timeoutMs"),
            ({"type": "redis", "url": "redis://127.0.0.1", "onError": "allow"}, "gateway.auth.rateLimit.store.onError"),
            ({"type": "redis", "url": "redis://127.0.0.1", "keyPrefix": "a b"}, "gateway.auth.rateLimit.store.keyPrefix"),
            ({"type": "redis", "url": "redis://127.0.0.1", "password": ""}, "gateway.auth.rateLimit.store.password"),
            ({"type": "redis", "url": "redis://127.0.0.1", "password": {"source": "env", "provider": "nope", "id": "X"}},
             "gateway.auth.rateLimit.store.password.provider"),
            ({"type": "redis", "url": "redis://127.0.0.1", "typo": 1}, "gateway.auth.rateLimit.store.typo"),
            ({"type": "memory", "url": "redis://127.0.0.1"}, "gateway.auth.rateLimit.store.url"),
            ({"type": "disk"}, "gateway.auth.rateLimit.store.type"),
        ]
        for store, path in cases:
            c = config("redis://127.0.0.1")
            c["gateway"]["auth"]["rateLimit"]["store"] = store
            done = ops.check_config(ARGS.gateway, c, DIR)
            self.assertEqual(done.returncode, 2, (store, done.stdout))
            self.assertTrue(done.stderr.startswith(f"config error: {path}: "), (store, done.stderr))
            self.assertNotIn("secretpw", done.stderr)


if __name__ == "__main__":
    harness.main()
