#!/usr/bin/env python3
"""Hot reload: SIGHUP and file changes swap the whole configuration at once, under load,
without a request failing or being decided by a mix of two configurations; a broken
file keeps the last good configuration serving; rotated secrets and lockouts."""

import collections
import http.client
import json
import os
import signal
import threading
import time
import unittest

import ops
from ops import Gateway, bearer, harness, whoami

ARGS = harness.arguments()
DIR = harness.work_dir()

PROXIED = [("X-Forwarded-For", "198.51.100.7")]


def generation_config(name, allowed, scopes):
    """One of two configurations that answer every test request differently: a
    direct-local caller is loopbackUser `gen-<name>`; `allowed` lists who else the proxy
    may name; `scopes` is identityScopes."""
    user = f"gen-{name}"
    return {"gateway": {"port": 0, "trustedProxies": ["127.0.0.1"],
                        "auth": {"exposeReasons": True,
                                 "trustedProxy": {"allowLoopback": True, "loopbackUser": user,
                                                  "allowUsers": [user, *allowed]},
                                 "scopes": {"identityScopes": scopes}}}}


A = generation_config("a", ["alice", "carol"], {"gen-a": ["operator.write"], "carol": ["operator.approvals"]})
B = generation_config("b", ["bob", "carol"], {"gen-b": ["operator.pairing"], "carol": ["operator.questions"]})

# The requests of the load, and what each configuration answers: (status, body).
REQUESTS = {
    "local": ("GET", "/whoami", [], None),
    "carol": ("GET", "/whoami", [("X-Forwarded-User", "carol")] + PROXIED, None),
    "alice": ("GET", "/whoami", [("X-Forwarded-User", "alice")] + PROXIED, None),
    "chat": ("POST", "/rpc/chat.send", [], "{}"),
}


def who(user, via, scopes, client="127.0.0.1"):
    return 200, {"user": user, "via": via, "scopes": scopes, "clientIp": client}


EXPECTED = {
    "local": {"a": who("gen-a", "loopback-user", ["operator.write"]), "b": who("gen-b", "loopback-user", ["operator.pairing"])},
    "carol": {"a": who("carol", "trusted-proxy", ["operator.approvals"], "198.51.100.7"),
              "b": who("carol", "trusted-proxy", ["operator.questions"], "198.51.100.7")},
    "alice": {"a": who("alice", "trusted-proxy", ["operator.read"], "198.51.100.7"),
              "b": (403, {"error": {"type": "forbidden", "message": "Forbidden",
                                    "reason": "trusted_proxy_user_not_allowed"}})},
    "chat": {"a": (200, {"ok": True, "method": "chat.send", "result": {"user": "gen-a", "via": "loopback-user", "params": {}}}),
             "b": (403, {"error": {"type": "forbidden", "message": "missing scope: operator.write",
                                   "reason": "missing_scope"}})},
}


def configuration_of(line):
    """Which configuration a decision line shows, when its content tells."""
    if line.get("user") in ("gen-a", "gen-b"):
        return line["user"][-1]
    if line.get("detail") == "alice" or line.get("reason") == "trusted_proxy_user_not_allowed":
        return "b"
    if line.get("user") == "alice":
        return "a"
    return None


class Load:
    """Clients sending the REQUESTS round-robin until stopped, half on keep-alive
    connections and half on a new connection each time. Every answer and every failure is
    kept."""

    def __init__(self, port, clients=6):
        self.port = port
        self.answers = []  # (kind, status, body)
        self.failures = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(clients)]
        for t in self._threads:
            t.start()

    def _run(self, index):
        kinds = list(REQUESTS)
        keep_alive = index % 2 == 0
        conn = None
        n = index
        while not self._stop.is_set():
            kind = kinds[n % len(kinds)]
            n += 1
            method, path, headers, body = REQUESTS[kind]
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request(method, path, body=body, headers=dict(headers))
                res = conn.getresponse()
                answer = (kind, res.status, json.loads(res.read()))
                if not keep_alive or res.will_close:
                    conn.close()
                    conn = None
                with self._lock:
                    self.answers.append(answer)
            except Exception as e:  # any failure is a finding; keep going
                with self._lock:
                    self.failures.append(f"{kind}: {e!r}")
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join()


class ReloadUnderLoad(unittest.TestCase):
    def test_no_request_fails_or_sees_a_mixed_configuration(self):
        gw = Gateway(ARGS.gateway, A, DIR)
        path = ops.config_path(gw)
        load = Load(gw.port)
        swaps = signals = 0
        try:
            # Alternate the two configurations for a few seconds, mostly by SIGHUP, now
            # and then by letting the watcher notice the file.
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                swaps += 1
                ops.write_json(path, B if swaps % 2 else A)
                if swaps % 25 == 0:
                    time.sleep(0.7)  # longer than the watcher's 500 ms poll
                else:
                    gw.proc.send_signal(signal.SIGHUP)
                    signals += 1
                    time.sleep(0.02)
        finally:
            load.stop()

        self.assertEqual(load.failures, [])
        seen = collections.Counter()
        for kind, status, body in load.answers:
            matches = [name for name, expected in EXPECTED[kind].items() if expected == (status, body)]
            self.assertEqual(len(matches), 1, f"{kind}: {status} {body} is not what either configuration answers")
            seen[kind, matches[0]] += 1
        for kind in REQUESTS:
            for name in "ab":
                self.assertGreater(seen[kind, name], 0, f"no {kind} request was answered by configuration {name}: {seen}")

        reloads = ops.reloads(gw)
        self.assertEqual([r for r in reloads if r["result"] != "ok"], [])
        # Enough swaps happened to mean something (signals close together count once).
        self.assertGreaterEqual(len(reloads), min(20, signals))
        self.assertIn("file", {r["trigger"] for r in reloads})
        self.assertIn("signal", {r["trigger"] for r in reloads})
        # Every decision line of one generation shows the same configuration.
        by_generation = collections.defaultdict(set)
        for line in gw.decisions():
            if configuration_of(line):
                by_generation[line["generation"]].add(configuration_of(line))
        mixed = {g: names for g, names in by_generation.items() if len(names) > 1}
        self.assertEqual(mixed, {})
        self.assertGreaterEqual(len(by_generation), min(10, len(reloads)))
        print(f"\n{len(load.answers)} requests, {len(reloads)} reloads, {len(by_generation)} generations seen deciding",
              flush=True)
        self.assertEqual(gw.stop(), 0)


class FailedReloads(unittest.TestCase):
    def setUp(self):
        self.gw = Gateway(ARGS.gateway, A, DIR)

    def tearDown(self):
        self.assertEqual(self.gw.stop(), 0)

    def assert_serving_a(self):
        res = whoami(self.gw)
        self.assertEqual((res.status, res.json()["user"]), (200, "gen-a"))

    def test_a_broken_file_keeps_the_old_configuration_serving(self):
        text = json.dumps(B)
        broken = [
            (text[:-2], "expected JSON"),
            (json.dumps({**B, "gateway": {**B["gateway"], "prot": 1}}), "gateway.prot: expected one of the keys"),
            (json.dumps({**B, "gateway": {**B["gateway"], "trustedProxies": ["127.0.0.1", "10.0.0.1/8"]}}),
             "gateway.trustedProxies[1]"),
            (json.dumps({**B, "gateway": {**B["gateway"], "auth": {**B["gateway"]["auth"],
                                                                  "token": {"source": "env", "provider": "default",
                                                                            "id": "TG_OPS_NOT_SET"}}}}),
             'gateway.auth.token: cannot resolve SecretRef "TG_OPS_NOT_SET"'),
            (json.dumps({**B, "gateway": {**B["gateway"], "port": 1}}), "gateway.port: expected the value the gateway started with"),
            ("", "expected JSON"),
        ]
        for text, error in broken:
            with self.subTest(error=error):
                reload = ops.reload_with(self.gw, text)
                self.assertEqual((reload["result"], reload["generation"], reload["message"]), ("failed", 1, "kept generation 1"))
                self.assertIn(error, reload["error"])
                self.assert_serving_a()
        seen = len(ops.reloads(self.gw))
        os.remove(ops.config_path(self.gw))
        self.assertIn("expected a readable configuration file", ops.wait_for_reload(self.gw, seen, "file")["error"])
        self.assert_serving_a()
        reload = ops.reload_with(self.gw, B)
        self.assertEqual((reload["result"], reload["generation"]), ("ok", 2))
        self.assertEqual(whoami(self.gw).json()["user"], "gen-b")

    def test_the_watcher_reloads_a_changed_file_without_a_signal(self):
        seen = len(ops.reloads(self.gw))
        ops.write_json(ops.config_path(self.gw), B)
        reload = ops.wait_for_reload(self.gw, seen, "file", timeout=5)
        self.assertEqual((reload["result"], reload["trigger"], reload["generation"]), ("ok", "file", 2))
        self.assertEqual(whoami(self.gw).json()["user"], "gen-b")
        # The watcher reloads once per change, not on every poll.
        time.sleep(1.2)
        self.assertEqual(len(ops.reloads(self.gw)), seen + 1)


def token_config(token_ref, providers, rate_limit):
    config = json.loads(json.dumps(A))
    config["gateway"]["auth"].update(token=token_ref, rateLimit=rate_limit)
    config["secrets"] = {"providers": providers}
    return config


class SecretsAndLimitsAcrossReloads(unittest.TestCase):
    def test_sighup_picks_up_a_rotated_secret(self):
        path = harness.write_file(os.path.join(ops.private_dir(DIR), "token"), "first-token-0123456789abcdef0123456\n", 0o600)
        config = token_config({"source": "file", "provider": "tokens", "id": "value"},
                              {"tokens": {"source": "file", "path": path, "mode": "singleValue"}}, {})
        gw = Gateway(ARGS.gateway, config, DIR)
        self.assertEqual(whoami(gw, bearer("first-token-0123456789abcdef0123456")).json()["via"], "token")
        harness.write_file(path, "second-token-0123456789abcdef012345\n", 0o600)
        seen = len(ops.reloads(gw))
        gw.proc.send_signal(signal.SIGHUP)
        self.assertEqual(ops.wait_for_reload(gw, seen, "signal")["result"], "ok")
        self.assertEqual(whoami(gw, bearer("second-token-0123456789abcdef012345")).json()["via"], "token")
        self.assertEqual(whoami(gw, bearer("first-token-0123456789abcdef0123456")).json()["error"]["reason"], "token_mismatch")
        self.assertEqual(gw.stop(), 0)

    def test_a_lockout_survives_reloads_until_the_limits_change(self):
        os.environ["TG_OPS_RELOAD_TOKEN"] = "reload-token-0123456789abcdef0123456"
        limits = {"maxAttempts": 3, "windowMs": 60000, "lockoutMs": 60000, "exemptLoopback": False}
        config = token_config({"source": "env", "provider": "default", "id": "TG_OPS_RELOAD_TOKEN"}, {}, limits)
        gw = Gateway(ARGS.gateway, config, DIR)
        for _ in range(3):
            self.assertEqual(whoami(gw, bearer("wrong")).json()["error"]["reason"], "token_mismatch")
        self.assertEqual(whoami(gw, bearer(os.environ["TG_OPS_RELOAD_TOKEN"])).status, 429)

        other_users = json.loads(json.dumps(config))
        other_users["gateway"]["auth"]["trustedProxy"]["allowUsers"].append("dave")
        self.assertEqual(ops.reload_with(gw, other_users)["result"], "ok")
        self.assertEqual(whoami(gw, bearer(os.environ["TG_OPS_RELOAD_TOKEN"])).status, 429)

        other_limits = json.loads(json.dumps(other_users))
        other_limits["gateway"]["auth"]["rateLimit"]["lockoutMs"] = 30000
        self.assertEqual(ops.reload_with(gw, other_limits)["result"], "ok")
        self.assertEqual(whoami(gw, bearer(os.environ["TG_OPS_RELOAD_TOKEN"])).json()["via"], "token")
        self.assertEqual(gw.stop(), 0)


class WebSocketsAcrossReloads(unittest.TestCase):
    def test_a_reload_decides_every_open_websocket_again(self):
        """behaviour §3 "Connections": alice is in A's allowUsers, not in B's; carol is in both
        with other scopes. After the swap alice's WebSocket is closed (1008, the reason
        code), carol's holds B's scopes."""
        gw = Gateway(ARGS.gateway, A, DIR)
        alice = harness.WebSocket("127.0.0.1", gw.port, headers=[("X-Forwarded-User", "alice")] + PROXIED)
        carol = harness.WebSocket("127.0.0.1", gw.port, headers=[("X-Forwarded-User", "carol")] + PROXIED)
        self.assertEqual((alice.status, carol.status), (101, 101))
        self.assertTrue(alice.call({"id": 1, "method": "health"})["ok"])
        self.assertTrue(carol.call({"id": 1, "method": "approvals.resolve"})["ok"])

        self.assertEqual(ops.reload_with(gw, B)["result"], "ok")
        opcode, payload = alice.receive()
        self.assertEqual((opcode, payload[:2], payload[2:]), (0x8, b"\x03\xf0", b"trusted_proxy_user_not_allowed"))
        alice.sock.close()
        refused = carol.call({"id": 2, "method": "approvals.resolve"})
        self.assertEqual(refused["error"]["details"]["missingScope"], "operator.approvals")
        revoked = gw.wait_for(lambda line: line.get("trigger") == "reload" and line.get("closeCode") == 1008)
        self.assertEqual((revoked["user"], revoked["reason"], revoked["generation"]),
                         ("alice", "trusted_proxy_user_not_allowed", 2))
        rescoped = gw.wait_for(lambda line: line.get("trigger") == "reload" and line.get("user") == "carol")
        self.assertEqual(rescoped["scopes"], ["operator.questions"])
        carol.close()
        self.assertEqual(gw.stop(), 0)


if __name__ == "__main__":
    harness.main()
