#!/usr/bin/env python3
"""trustgate-gateway with a trusted proxy that is not on loopback, and an untrusted host
that spoofs identity headers. A network namespace joined by a veth pair holds both: nginx
(examples/deploy/nginx-auth-basic.conf) runs inside it on one address, which the gateway
trusts; the second address is trusted by nobody. Needs root (ip netns)."""

import unittest

import harness
from harness import Gateway, WebSocket, basic_auth, request

harness.require_tools("ip", "nginx", "htpasswd", "curl")
ARGS = harness.arguments()
DIR = harness.work_dir()
NS = harness.Namespace(hosts=2)
PROXY, STRANGER = NS.hosts  # in the namespace: the trusted proxy, and a host nobody trusts


class RemoteProxy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        config = {"gateway": {"bind": NS.local, "port": 0, "trustedProxies": ["127.0.0.1", "::1", PROXY],
                              "auth": {"mode": "trusted-proxy", "exposeReasons": True, "token": "t" * 40,
                                       "trustedProxy": {"loopbackUser": "operator@localhost",
                                                        "allowUsers": ["alice", "operator@localhost"]},
                                       "scopes": {"identityScopes": {"alice": ["operator.write"]}}}}}
        cls.gw = Gateway(ARGS.gateway, config, DIR)
        cls.proxy_port = harness.start_nginx_basic_auth(DIR, ARGS.deploy, PROXY, f"{NS.local}:{cls.gw.port}", netns=NS.name)

    def through_proxy(self, user, password):
        return request("GET", PROXY, self.proxy_port, "/whoami", [basic_auth(user, password)])

    def test_allowed_user_through_a_non_loopback_proxy(self):
        res, (line,) = self.gw.observe(lambda: self.through_proxy("alice", "wonderland"))
        # nginx saw this host (NS.local) as its client and said so in X-Forwarded-For.
        self.assertEqual(res.json(), {"user": "alice", "via": "trusted-proxy", "scopes": ["operator.write"],
                                      "clientIp": NS.local})
        self.assertEqual((line["peer"], line["clientIp"], line["user"]), (PROXY, NS.local, "alice"))

    def test_user_not_allowed_through_the_proxy(self):
        res = self.through_proxy("bob", "builder")
        self.assertEqual(res.json()["error"]["reason"], "trusted_proxy_user_not_allowed")

    def test_websocket_through_the_proxy(self):
        ws = WebSocket(PROXY, self.proxy_port, headers=[basic_auth("alice", "wonderland")])
        self.assertEqual(ws.status, 101)
        self.assertEqual(ws.call({"id": 7, "method": "chat.send", "params": {}})["ok"], True)
        self.assertEqual(ws.call({"id": 8, "method": "config.set", "params": {}})["error"]["details"]["missingScope"],
                         "operator.admin")
        ws.close()

    def test_trusted_non_loopback_peer_never_gets_local_identities(self):
        # From the proxy's own address, looking as local as a request can: it is still not
        # direct-local (the peer is not loopback), so no loopbackUser and no token fallback.
        local_looking = [("Host", "localhost"), ("Authorization", "Bearer " + "t" * 40)]
        status, body = NS.curl(f"http://{NS.local}:{self.gw.port}/whoami", local_looking, source=PROXY)
        self.assertEqual(status, 401, body)
        self.assertIn('"reason":"trusted_proxy_user_missing"', body)

    def test_untrusted_host_cannot_spoof_identity(self):
        spoofed = [("X-Forwarded-User", "alice"), ("X-Forwarded-For", "127.0.0.1"), ("X-Real-IP", "127.0.0.1"),
                   ("Forwarded", "for=127.0.0.1"), ("Host", "localhost")]
        status, body = NS.curl(f"http://{NS.local}:{self.gw.port}/whoami", spoofed, source=STRANGER)
        self.assertEqual(status, 401, body)
        self.assertIn('"reason":"trusted_proxy_untrusted_source"', body)
        line = next(d for d in reversed(self.gw.decisions()) if d["peer"] == STRANGER)
        # Forwarded headers from an untrusted peer are ignored, even for logging.
        self.assertEqual((line["clientIp"], line["user"], line["decision"]), (STRANGER, None, "deny"))

    def test_untrusted_host_cannot_upgrade_to_websocket(self):
        upgrade = [("X-Forwarded-User", "alice"), ("Connection", "Upgrade"), ("Upgrade", "websocket"),
                   ("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]
        status, body = NS.curl(f"http://{NS.local}:{self.gw.port}/ws", upgrade, source=STRANGER)
        self.assertEqual(status, 401, body)


if __name__ == "__main__":
    harness.main()
