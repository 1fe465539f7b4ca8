#!/usr/bin/env python3
"""The start-up security audit (each finding id, on --check-config and on the log at
start) and failed-attempt limiting (behaviour §6) as the gateway applies it: 429 with
Retry-After per client IP, loopback exemption, and a flood of distinct clients that
neither grows the limiter nor frees a locked-out one."""

import json
import os
import time
import unittest

import ops
from ops import Gateway, bearer, harness, whoami

ARGS = harness.arguments()
DIR = harness.work_dir()

TOKEN = "audit-test-token-0123456789abcdef0123"


def config(bind="127.0.0.1", mode="trusted-proxy", **auth):
    """A configuration whose audit is clean unless the arguments make it otherwise."""
    c = {"gateway": {"bind": bind, "port": 0, "trustedProxies": ["127.0.0.1", "10.1.2.3"],
                     "auth": {"mode": mode, "trustedProxy": {"allowUsers": ["alice"], "allowLoopback": True}}}}
    c["gateway"]["auth"].update(auth)
    return c


def edit(base, change):
    c = json.loads(json.dumps(base))
    change(c)
    return c


def findings(text):
    """The (severity, id, path) of each finding line --check-config printed."""
    out = []
    for line in text.splitlines():
        severity, rest = line.split(" ", 1)
        finding_id, rest = rest.split("] ", 1)
        out.append((severity, finding_id.lstrip("["), rest.split(": ", 1)[0]))
    return out


class SecurityAudit(unittest.TestCase):
    def check(self, c):
        result = ops.check_config(ARGS.gateway, c, DIR)
        self.assertEqual(result.returncode, 0, result)
        self.assertTrue(result.stdout.startswith("config ok: "), result.stdout)
        return findings(result.stderr)

    def test_each_risky_setting_has_its_finding(self):
        token_mode = config(mode="token", token=TOKEN)
        cases = [
            (edit(config(), lambda c: c["gateway"]["auth"]["trustedProxy"].update(allowUsers=[])),
             ("warn", "trusted_proxy.allow_users_empty", "gateway.auth.trustedProxy.allowUsers")),
            (edit(config(), lambda c: c["gateway"]["auth"]["trustedProxy"].update(allowLoopback=True,
                                                                                  loopbackUser="alice")),
             ("warn", "trusted_proxy.loopback_user_with_allow_loopback", "gateway.auth.trustedProxy.allowLoopback")),
            (edit(config(), lambda c: c["gateway"].update(trustedProxies=["127.0.0.1", "10.0.0.0/15"])),
             ("warn", "trusted_proxies.wide_cidr", "gateway.trustedProxies[1]")),
            (edit(config(), lambda c: c["gateway"].update(trustedProxies=["127.0.0.1", "2001:db8::/47"])),
             ("warn", "trusted_proxies.wide_cidr", "gateway.trustedProxies[1]")),
            (edit(config(), lambda c: c["gateway"].update(trustedProxies=["127.0.0.1", "::/0"])),
             ("warn", "trusted_proxies.wide_cidr", "gateway.trustedProxies[1]")),
            (config(bind="0.0.0.0", mode="token", token=TOKEN),
             ("warn", "tls.plaintext_exposed", "gateway.tls.enabled")),
            (config(mode="token", token="short-token"), ("warn", "auth.token_short", "gateway.auth.token")),
            (config(bind="0.0.0.0", mode="none", allowInsecureNone=True),
             ("critical", "auth.none_exposed", "gateway.auth.mode")),
            # No trusted entry can reach a loopback bind; or only loopback entries, which
            # without allowLoopback and a loopback fallback admit nobody either.
            (edit(config(), lambda c: c["gateway"].update(trustedProxies=["10.1.2.3", "::1"])),
             ("warn", "trusted_proxy.admits_nobody", "gateway.trustedProxies")),
            (edit(config(), lambda c: c["gateway"]["auth"]["trustedProxy"].update(allowLoopback=False)),
             ("warn", "trusted_proxy.admits_nobody", "gateway.trustedProxies")),
        ]
        if os.geteuid() == 0:
            cases.append((edit(config(), lambda c: c["gateway"]["auth"]["trustedProxy"].update(loopbackUser="alice")),
                          ("warn", "trusted_proxy.local_users_root", "gateway.auth.trustedProxy.localUsers")))
        clean = [config(), token_mode, config(mode="none"),
                 edit(config(), lambda c: c["gateway"].update(trustedProxies=["10.0.0.0/16", "2001:db8::/48", "127.0.0.1"])),
                 # An IPv6 /80: it spans the IPv4-mapped space but trusts no IPv4 peer (behaviour §1).
                 edit(config(), lambda c: c["gateway"].update(trustedProxies=["127.0.0.1", "::/80"])),
                 config(bind="0.0.0.0"),  # trusted-proxy: TLS ends at the proxy
                 # a loopback fallback, a remote proxy on a reachable bind, or root named on purpose
                 edit(config(), lambda c: c["gateway"]["auth"].update(token=TOKEN, trustedProxy={
                     "allowUsers": ["alice"], "localUsers": ["root"]})),
                 edit(config(bind="0.0.0.0"), lambda c: c["gateway"]["auth"]["trustedProxy"].update(allowLoopback=False))]
        for c in clean:
            with self.subTest(clean=c):
                self.assertEqual(self.check(c), [])
        for c, expected in cases:
            with self.subTest(expected=expected):
                self.assertIn(expected, self.check(c))
        (plaintext_too,) = [c for c, expected in cases if expected[1] == "auth.none_exposed"]
        self.assertIn(("warn", "tls.plaintext_exposed", "gateway.tls.enabled"), self.check(plaintext_too))

    def test_none_on_a_non_loopback_bind_is_refused_without_allow_insecure_none(self):
        result = ops.check_config(ARGS.gateway, config(bind="0.0.0.0", mode="none"), DIR)
        self.assertEqual(result.returncode, 2)
        self.assertTrue(result.stderr.startswith("config error: gateway.auth.mode: "), result.stderr)
        self.assertIn("allowInsecureNone", result.stderr)

    def test_findings_are_logged_at_start(self):
        gw = Gateway(ARGS.gateway, config(mode="token", token="short-token"), DIR)
        lines = gw.lines
        (finding,) = [line for line in lines if line.get("event") == "finding"]
        self.assertEqual({k: finding[k] for k in ("id", "severity", "path", "generation")},
                         {"id": "auth.token_short", "severity": "warn", "path": "gateway.auth.token", "generation": 1})
        self.assertLess(lines.index(finding), [line.get("event") for line in lines].index("listening"))
        self.assertEqual(gw.stop(), 0)
        self.assertNotIn("short-token", gw.log_text())

    def test_the_embedded_default_reports_its_loopback_user(self):
        result = harness.run_gateway_once(ARGS.gateway, "--check-config")
        self.assertEqual(result.returncode, 0)
        expected = ["trusted_proxy.allow_users_empty", "trusted_proxy.loopback_user_with_allow_loopback"]
        if os.geteuid() == 0:
            expected.append("trusted_proxy.local_users_root")
        self.assertEqual(sorted(f[1] for f in findings(result.stderr)), sorted(expected))


def limited(max_attempts=3, **extra):
    limits = {"maxAttempts": max_attempts, "windowMs": 60000, "lockoutMs": 60000, "exemptLoopback": False, **extra}
    return config(mode="token", token=TOKEN, exposeReasons=True, rateLimit=limits)


class FailedAttempts(unittest.TestCase):
    def attempt(self, gw, token, source):
        return whoami(gw, bearer(token), source=source)

    def lock_out(self, gw, source, attempts=3):
        for _ in range(attempts):
            self.assertEqual(self.attempt(gw, "wrong", source).json()["error"]["reason"], "token_mismatch")

    def test_lockout_is_per_client_with_retry_after(self):
        gw = Gateway(ARGS.gateway, limited(), DIR)
        self.lock_out(gw, "127.0.0.2")
        locked = self.attempt(gw, TOKEN, "127.0.0.2")
        self.assertEqual(locked.status, 429)
        self.assertEqual(locked.json()["error"]["reason"], "rate_limited")
        self.assertTrue(55 <= int(locked.headers["retry-after"]) <= 60, locked.headers)
        self.assertEqual(self.attempt(gw, TOKEN, "127.0.0.3").status, 200)  # another client is not locked out
        (line,) = [d for d in gw.decisions() if d["reason"] == "rate_limited"]
        self.assertEqual((line["clientIp"], line["status"]), ("127.0.0.2", 429))
        self.assertEqual(gw.stop(), 0)

    def test_a_success_before_the_limit_starts_the_count_again(self):
        gw = Gateway(ARGS.gateway, limited(), DIR)
        self.lock_out(gw, "127.0.0.4", attempts=2)
        self.assertEqual(self.attempt(gw, TOKEN, "127.0.0.4").status, 200)
        self.lock_out(gw, "127.0.0.4", attempts=2)
        self.assertEqual(self.attempt(gw, TOKEN, "127.0.0.4").status, 200)
        self.assertEqual(gw.stop(), 0)

    def test_loopback_is_exempt_by_default(self):
        gw = Gateway(ARGS.gateway, edit(limited(), lambda c: c["gateway"]["auth"]["rateLimit"].pop("exemptLoopback")), DIR)
        self.lock_out(gw, "127.0.0.2", attempts=6)
        self.assertEqual(self.attempt(gw, TOKEN, "127.0.0.2").status, 200)
        self.assertEqual(gw.stop(), 0)

    def test_a_flood_of_distinct_clients_does_not_free_a_locked_one(self):
        gw = Gateway(ARGS.gateway, limited(maxKeys=64), DIR)
        self.lock_out(gw, "127.0.0.2")
        flood = 1000  # distinct clients, many times the limiter's 64 entries
        for i in range(flood):
            res = self.attempt(gw, "wrong", f"127.1.{i // 250}.{1 + i % 250}")
            self.assertEqual(res.status, 401)
        self.assertEqual(self.attempt(gw, TOKEN, "127.0.0.2").status, 429)
        self.assertEqual(gw.stop(), 0)

    def test_limiter_size_is_bounded_in_the_configuration(self):
        for limits, path in [({"maxKeys": 3}, "gateway.auth.rateLimit.maxKeys"),
                             ({"maxKeys": 1 << 20, "maxAttempts": 100}, "gateway.auth.rateLimit.maxKeys")]:
            with self.subTest(limits=limits):
                result = ops.check_config(ARGS.gateway, config(mode="token", token=TOKEN, rateLimit=limits), DIR)
                self.assertEqual(result.returncode, 2)
                self.assertTrue(result.stderr.startswith(f"config error: {path}: "), result.stderr)


class AuditTruth(unittest.TestCase):
    """behaviour §7: a decision line says what was sent and who was refused, and holds no
    credential from the target."""

    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(ARGS.gateway, {"gateway": {
            "port": 0, "trustedProxies": ["127.0.0.1"],
            "auth": {"trustedProxy": {"allowLoopback": True, "loopbackUser": "operator@localhost"}}}}, DIR)

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def last_decision(self, predicate, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.gw.decisions() if predicate(line)]
            if found:
                return found[-1]
            time.sleep(0.02)
        self.fail(f"no such decision line: {self.gw.decisions()[-3:]}")

    def test_logged_targets_lose_userinfo_query_and_fragment(self):
        raw = harness.raw_exchange("127.0.0.1", self.gw.port,
                                   b"GET http://alice:hunter2@localhost/whoami/x?token=s3cr3t#frag HTTP/1.1\r\n"
                                   b"Host: localhost\r\nConnection: close\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 404"), raw[:100])
        line = self.last_decision(lambda line: "whoami/x" in line.get("route", ""))
        self.assertEqual(line["route"], "http://localhost/whoami/x")
        text = self.gw.log_text()
        for secret in ("hunter2", "s3cr3t", "frag"):
            self.assertNotIn(secret, text)

    def test_a_refused_upgrade_logs_the_status_sent(self):
        # Authenticated (a local tool), but without Sec-WebSocket-Key: Beast answers 400.
        raw = harness.raw_exchange("127.0.0.1", self.gw.port,
                                   b"GET /ws?broken HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                                   b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 400"), raw[:100])
        line = self.last_decision(lambda line: line.get("route") == "/ws" and line.get("status") != 101)
        self.assertEqual((line["decision"], line["status"]), ("allow", 400))
        ws = harness.WebSocket("127.0.0.1", self.gw.port)
        self.assertEqual(ws.status, 101)
        ws.close()
        self.assertEqual(self.last_decision(lambda line: line.get("status") == 101)["route"], "/ws")

    def test_identity_bytes_are_escaped_distinguishably(self):
        r"""README "Audit log": `\` is written `\\`, a byte that is not valid UTF-8 `\xHH`."""
        for sent, logged in [(b"al\xffice", r"al\xffice"), (b"al\\xffice", r"al\\xffice"), (b"caf\xc3\xa9", "café"),
                             (b"\xed\xa0\x80", r"\xed\xa0\x80")]:
            with self.subTest(sent=sent):
                raw = harness.raw_exchange("127.0.0.1", self.gw.port,
                                           b"GET /whoami HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-User: " + sent +
                                           b"\r\nX-Forwarded-For: 198.51.100.7\r\nConnection: close\r\n\r\n")
                self.assertTrue(raw.startswith(b"HTTP/1.1 200"), raw[:100])
                self.assertIn('"user":' + json.dumps(logged, ensure_ascii=False), self.gw.log_text())


if __name__ == "__main__":
    harness.main()
