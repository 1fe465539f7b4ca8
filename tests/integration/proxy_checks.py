"""What holds for trustgate-gateway behind any identity-aware proxy on this host, whatever
the proxy (nginx_test.py, caddy_test.py): the proxy decides who signs in, the gateway
believes only what the proxy says."""

from harness import WebSocket, request


def gateway_config(**trusted_proxy):
    proxy = {"allowLoopback": True, "loopbackUser": "operator@localhost", "allowUsers": ["alice", "operator@localhost"]}
    proxy.update(trusted_proxy)
    return {"gateway": {"port": 0, "trustedProxies": ["127.0.0.1", "::1"],
                        "auth": {"mode": "trusted-proxy", "exposeReasons": True, "trustedProxy": proxy,
                                 "scopes": {"identityScopes": {"alice": ["operator.write"]}}}}}


class ProxiedGatewayChecks:
    """What holds behind any proxy setup; subclasses say how a person signs in."""

    def signed_in(self, user):
        raise NotImplementedError

    def get(self, path, headers=()):
        return request("GET", "127.0.0.1", self.proxy_port, path, list(headers))

    def test_allowed_user(self):
        res, (line,) = self.gw.observe(lambda: self.get("/whoami", self.signed_in("alice")))
        self.assertEqual(res.json(), {"user": "alice", "via": "trusted-proxy", "scopes": ["operator.write"],
                                      "clientIp": "127.0.0.1"})
        self.assertEqual((line["peer"], line["user"], line["via"], line["decision"]), ("127.0.0.1", "alice", "trusted-proxy", "allow"))

    def test_client_cannot_choose_its_identity(self):
        spoofed = self.signed_in("alice") + [("X-Forwarded-User", "operator@localhost"), ("x-forwarded-user", "root")]
        self.assertEqual(self.get("/whoami", spoofed).json()["user"], "alice")

    def test_user_not_in_allow_users(self):
        res = self.get("/whoami", self.signed_in("bob"))
        self.assertEqual(res.status, 403)
        self.assertEqual(res.json(), {"error": {"type": "forbidden", "message": "Forbidden",
                                                "reason": "trusted_proxy_user_not_allowed"}})

    def test_no_credentials_never_reach_the_gateway(self):
        res, lines = self.gw.observe(lambda: self.get("/whoami"))
        self.assertEqual(res.status, 401)
        self.assertEqual(lines, [])
        # Not even with identity headers or a local-looking request (which the proxy may
        # not even route: Caddy answers an unknown Host itself, with an empty 200).
        res, lines = self.gw.observe(lambda: self.get("/whoami", [("X-Forwarded-User", "alice"), ("Host", "localhost")]))
        self.assertEqual(lines, [])
        self.assertNotIn("alice", res.body)

    def test_websocket_through_the_proxy(self):
        ws = WebSocket("127.0.0.1", self.proxy_port, headers=self.signed_in("alice"))
        self.assertEqual(ws.status, 101)
        self.assertEqual(ws.call({"id": 1, "method": "chat.send", "params": {"text": "hello"}}),
                         {"id": 1, "ok": True, "result": {"user": "alice", "via": "trusted-proxy", "params": {"text": "hello"}}})
        self.assertEqual(ws.call({"id": 2, "method": "approvals.resolve", "params": {}}),
                         {"id": 2, "ok": False, "error": {"code": "FORBIDDEN", "message": "missing scope: operator.approvals",
                                                          "details": {"code": "MISSING_SCOPE",
                                                                      "missingScope": "operator.approvals"}}})
        ws.close()
        refused = WebSocket("127.0.0.1", self.proxy_port, headers=self.signed_in("bob"))
        self.assertEqual(refused.status, 403)  # signed in, but not in allowUsers

    def test_local_cli_still_gets_loopback_user(self):
        res = request("GET", "127.0.0.1", self.gw.port, "/whoami")
        self.assertEqual(res.json()["user"], "operator@localhost")
        self.assertEqual(res.json()["via"], "loopback-user")
