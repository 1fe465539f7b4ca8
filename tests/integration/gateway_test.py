#!/usr/bin/env python3
"""trustgate-gateway on its own: the command line and configuration of behaviour §9 and the
wire contract of behaviour §7, spoken to directly over loopback (no proxy in between)."""

import json
import os
import signal
import socket
import ssl
import subprocess
import unittest

import harness
from harness import Gateway, WebSocket, request

ARGS = harness.arguments()
DIR = harness.work_dir()

TOKEN = "integration-test-token-0123456789abcdef"


def trusted_proxy_config(**auth):
    """Loopback-only trusted-proxy configuration on a free port."""
    config = {
        "gateway": {
            "port": 0,
            "trustedProxies": ["127.0.0.1", "::1"],
            "auth": {
                "mode": "trusted-proxy",
                "exposeReasons": True,
                "trustedProxy": {"allowLoopback": True, "loopbackUser": "operator@localhost",
                                 "allowUsers": ["alice", "operator@localhost"]},
                "scopes": {"identityScopes": {"alice": ["operator.write", "operator.approvals"]}},
            },
        }
    }
    config["gateway"]["auth"].update(auth)
    return config


def start_or_skip(test, config, problem, reason):
    """The gateway on `config`, or the test skipped when it fails to start with `problem`."""
    try:
        return Gateway(ARGS.gateway, config, DIR)
    except AssertionError as e:
        if problem in str(e):
            test.skipTest(reason)
        raise


class CommandLine(unittest.TestCase):
    def check(self, config):
        return harness.run_gateway_once(ARGS.gateway, "--check-config", config=config, directory=DIR)

    def test_print_default_config_is_the_embedded_default(self):
        printed = harness.run_gateway_once(ARGS.gateway, "--print-default-config")
        self.assertEqual(printed.returncode, 0)
        self.assertIn("//", printed.stdout)  # it documents itself with comments
        checked = self.check(printed.stdout)
        self.assertEqual(checked.returncode, 0, checked.stderr)
        self.assertEqual(checked.stdout, "config ok: trusted-proxy mode, 127.0.0.1 port 18789\n")

    def test_check_config_without_file_checks_the_default(self):
        checked = harness.run_gateway_once(ARGS.gateway, "--check-config")
        self.assertEqual((checked.returncode, checked.stdout), (0, "config ok: trusted-proxy mode, 127.0.0.1 port 18789\n"))

    def test_comments_are_allowed(self):
        text = '// line\n{ /* block */ "gateway": { "port": 0, // trailing\n "trustedProxies": ["127.0.0.1"] } }'
        self.assertEqual(self.check(text).returncode, 0)

    def test_openclaw_documentation_configurations_load(self):
        """OpenClaw's JSON5 examples (tests/json5/openclaw/), pasted unchanged (behaviour §9)."""
        fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "json5", "openclaw")
        for name, listens in (("loopback.json5", "127.0.0.1"), ("lan.json5", "0.0.0.0"), ("flat_header.json5", "127.0.0.1")):
            with self.subTest(name=name), open(os.path.join(fixtures, name)) as f:
                checked = self.check(f.read())
                self.assertEqual((checked.returncode, checked.stdout),
                                 (0, f"config ok: trusted-proxy mode, {listens} port 18789\n"), checked.stderr)

    def test_openclaw_sections_and_misspellings_are_named(self):
        agents = self.check("{agents: {}, gateway: {prot: 1}}")
        self.assertEqual(agents.returncode, 2)
        self.assertIn("an OpenClaw setting this gateway does not implement", agents.stderr)
        misspelt = self.check("{gateway: {prot: 1}}")
        self.assertIn("did you mean port?", misspelt.stderr)

    def test_usage_errors_exit_2(self):
        result = harness.run_gateway_once(ARGS.gateway, "--no-such-flag")
        self.assertEqual(result.returncode, 2)
        self.assertTrue(result.stderr.startswith("usage: trustgate-gateway"), result.stderr)

    def test_every_bad_configuration_is_one_line_with_its_path(self):
        base = trusted_proxy_config()

        def edit(change):
            config = json.loads(json.dumps(base))
            change(config)
            return config

        cases = [
            (edit(lambda c: c["gateway"].update(prot=1)), "gateway.prot", "expected one of the keys"),
            (edit(lambda c: c["gateway"]["auth"]["trustedProxy"].update(allowUser=["x"])),
             "gateway.auth.trustedProxy.allowUser", "unknown key"),
            (edit(lambda c: c["gateway"].update(trustedProxies=["127.0.0.1", "127.1"])), "gateway.trustedProxies[1]",
             '"127.1"'),
            (edit(lambda c: c["gateway"].update(trustedProxies=["10.0.0.1/8"])), "gateway.trustedProxies[0]", "host bits"),
            (edit(lambda c: c["gateway"].update(trustedProxies=["127.0.0.1", "::ffff:0:0/96"])), "gateway.trustedProxies[1]",
             'expected the IPv4 form "0.0.0.0/0"'),
            (edit(lambda c: c["gateway"].update(trustedProxies=[])), "gateway.trustedProxies", "at least one"),
            (edit(lambda c: c["gateway"].update(port="18789")), "gateway.port", "expected an integer from 0 to 65535, got a string"),
            (edit(lambda c: c["gateway"].update(port=70000)), "gateway.port", "got 70000"),
            (edit(lambda c: c["gateway"].update(bind="localhost")), "gateway.bind", "expected an IP address"),
            (edit(lambda c: c["gateway"]["auth"].update(mode="trusted_proxy")), "gateway.auth.mode", '"trusted_proxy"'),
            (edit(lambda c: c["gateway"]["auth"]["trustedProxy"].update(loopbackUser="bob")),
             "gateway.auth.trustedProxy.loopbackUser", "allowUsers"),
            (edit(lambda c: c["gateway"].update(trustedProxies=["10.0.0.0/8"])),
             "gateway.auth.trustedProxy.loopbackUser", "loopback entry"),
            (edit(lambda c: c["gateway"]["auth"]["trustedProxy"].update(userHeader="")),
             "gateway.auth.trustedProxy.userHeader", "non-empty"),
            (edit(lambda c: c["gateway"]["auth"]["trustedProxy"].update(allowLoopback="yes")),
             "gateway.auth.trustedProxy.allowLoopback", "expected true or false"),
            (edit(lambda c: c["gateway"]["auth"]["scopes"].update(defaultScopes=["operator.reed"])),
             "gateway.auth.scopes.defaultScopes[0]", "operator.reed"),
            (edit(lambda c: c["gateway"]["auth"]["scopes"].update(methods={"x.y": "root"})),
             "gateway.auth.scopes.methods.x.y", '"root"'),
            (edit(lambda c: c["gateway"]["auth"].update(mode="token")), "gateway.auth.token", "expected a token"),
            (edit(lambda c: c["gateway"]["auth"].update(token="")), "gateway.auth.token", "non-empty"),
            (edit(lambda c: c["gateway"]["auth"].update(token={"source": "env", "provider": "default", "id": "T"})),
             "gateway.auth.token", "SecretRef"),
            (edit(lambda c: c["gateway"]["auth"].update(rateLimit={"maxAttempts": 0})), "gateway.auth.rateLimit.maxAttempts",
             "from 1"),
            (edit(lambda c: c["gateway"]["auth"].update(rateLimit={"ipv6PrefixLength": 31})),
             "gateway.auth.rateLimit.ipv6PrefixLength", "expected an integer from 32 to 128, got 31"),
            (edit(lambda c: c["gateway"]["auth"].update(rateLimit={"globalMaxAttempts": 0})),
             "gateway.auth.rateLimit.globalMaxAttempts", "from 1 to 100000"),
            (edit(lambda c: c["gateway"]["auth"].update(rateLimit={"globalMaxAttempts": "10"})),
             "gateway.auth.rateLimit.globalMaxAttempts", "expected null (off) or an integer"),
            (edit(lambda c: c["gateway"].update(clientIpHeader="X-Forwarded-For")), "gateway.clientIpHeader",
             'expected "x-forwarded-for" or "forwarded", got "X-Forwarded-For"'),
            (edit(lambda c: (c["gateway"]["auth"].update(mode="none"), c["gateway"].update(bind="::"))),
             "gateway.auth.mode", "allowInsecureNone"),
            (edit(lambda c: c["gateway"].update(tls={"enabled": True})), "gateway.tls.certPath", "PEM certificate chain"),
            (edit(lambda c: c["gateway"].update(tls={"enabled": True, "certPath": "/nonexistent/cert.pem",
                                                      "keyPath": "/nonexistent/key.pem"})),
             "gateway.tls.certPath", "cannot read"),
            (edit(lambda c: c["gateway"].update(http={"securityHeaders": {"strictTransportSecurity": True}})),
             "gateway.http.securityHeaders.strictTransportSecurity", "expected false or a header value"),
            (edit(lambda c: c["gateway"].update(http={"maxConnections": 10, "maxConnectionsPerPeer": 11})),
             "gateway.http.maxConnectionsPerPeer", "expected at most gateway.http.maxConnections (10)"),
            (edit(lambda c: c["gateway"].update(http={"headerTimeoutMs": 50})), "gateway.http.headerTimeoutMs",
             "expected"),
            (edit(lambda c: c["gateway"].update(http={"allowedOrigins": ["https://ok.example", "https://app.example/"]})),
             "gateway.http.allowedOrigins[1]", "expected an origin scheme://host[:port]"),
            (edit(lambda c: c["gateway"].update(http={"allowedOrigins": ["https://app.example:443"]})),
             "gateway.http.allowedOrigins[0]", "expected the origin without its default port 443"),
            (edit(lambda c: c.update(secrets={"providers": {"vault": {}}})), "secrets.providers.vault", "secret providers"),
            (edit(lambda c: c.update(proxy={"enabled": True})), "proxy.proxyUrl", "proxy URL"),
            ('{"gateway": {"port": 0, "port": 1}}', "gateway.port", "duplicate key"),
            ('{"gateway": {"port": 0,, }}', os.path.join(DIR, "check-"), "expected JSON"),
            ("[1, 2]", "(top level)", "expected an object"),
        ]
        for config, path, detail in cases:
            with self.subTest(path=path, detail=detail):
                result = self.check(config)
                self.assertEqual(result.returncode, 2, result)
                lines = result.stderr.splitlines()
                self.assertEqual(len(lines), 1, result.stderr)
                self.assertTrue(lines[0].startswith("config error: " + path), lines[0])
                self.assertIn(detail, lines[0])
                # A real start-up stops the same way.
                started = harness.run_gateway_once(ARGS.gateway, config=config, directory=DIR)
                self.assertEqual(started.returncode, 2)
                self.assertEqual(len(started.stderr.splitlines()), 1, started.stderr)
                self.assertTrue(started.stderr.startswith("config error: " + path), started.stderr)

    def test_config_error_never_shows_the_token(self):
        config = trusted_proxy_config(token=TOKEN)
        config["gateway"]["auth"]["scopes"]["tokenScopes"] = ["nope"]
        result = self.check(config)
        self.assertEqual(result.returncode, 2)
        syntax = self.check('{"gateway": {"auth": {"token": "' + TOKEN + '" "mode": "token"}}}')
        self.assertEqual(syntax.returncode, 2)
        for output in (result.stderr, syntax.stderr):
            self.assertNotIn(TOKEN, output)
            self.assertNotIn(TOKEN[:12], output)


class DefaultConfiguration(unittest.TestCase):
    """What a new user sees: the embedded default on 127.0.0.1:18789."""

    def test_default_serves_local_tools_as_loopback_user(self):
        gateway = start_or_skip(self, None, "in use", "port 18789 is taken on this machine")
        self.assertEqual(gateway.url, "http://127.0.0.1:18789")
        health = request("GET", "127.0.0.1", 18789, "/healthz")
        self.assertEqual((health.status, health.json()), (200, {"ok": True}))
        me = request("GET", "127.0.0.1", 18789, "/whoami")
        self.assertEqual(me.json(), {"user": "operator@localhost", "via": "loopback-user", "scopes": ["operator.read"],
                                     "clientIp": "127.0.0.1"})
        self.assertEqual(gateway.stop(), 0)


class WireContract(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        config = trusted_proxy_config()
        config["gateway"]["http"] = {"securityHeaders": {"strictTransportSecurity": "max-age=63072000"}}
        cls.gw = Gateway(ARGS.gateway, config, DIR)

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def get(self, path, headers=(), method="GET", body=None):
        return request(method, "127.0.0.1", self.gw.port, path, headers, body)

    def test_healthz_needs_no_authentication(self):
        res = self.get("/healthz", [("X-Forwarded-User", "x, y")])
        self.assertEqual((res.status, res.json()), (200, {"ok": True}))

    def test_local_cli_gets_loopback_user(self):
        res, (line,) = self.gw.observe(lambda: self.get("/whoami"))
        self.assertEqual(res.json(), {"user": "operator@localhost", "via": "loopback-user", "scopes": ["operator.read"],
                                      "clientIp": "127.0.0.1"})
        self.assertEqual({k: line[k] for k in ("decision", "reason", "peer", "clientIp", "via", "user", "status")},
                         {"decision": "allow", "reason": "ok", "peer": "127.0.0.1", "clientIp": "127.0.0.1",
                          "via": "loopback-user", "user": "operator@localhost", "status": 200})

    def test_proxied_request_uses_the_header(self):
        res = self.get("/whoami", [("X-Forwarded-User", "alice"), ("X-Forwarded-For", "203.0.113.9")])
        self.assertEqual(res.json(), {"user": "alice", "via": "trusted-proxy",
                                      "scopes": ["operator.write", "operator.approvals"], "clientIp": "203.0.113.9"})

    def test_empty_forwarded_for_elements_are_skipped(self):
        for value in ("203.0.113.9,,", ", 203.0.113.9 ,", "203.0.113.9, ,127.0.0.1"):
            with self.subTest(value=value):
                res = self.get("/whoami", [("X-Forwarded-User", "alice"), ("X-Forwarded-For", value)])
                self.assertEqual(res.json()["clientIp"], "203.0.113.9")

    def test_scopes_header_narrows_the_grant(self):
        res = self.get("/whoami", [("X-Forwarded-User", "alice"), ("X-Forwarded-For", "203.0.113.9"),
                                   ("X-OpenClaw-Scopes", "operator.approvals, operator.admin, no.such.scope")])
        self.assertEqual(res.json()["scopes"], ["operator.approvals"])
        # A requested scope that the grant implies is held: write implies read.
        implied = self.get("/whoami", [("X-Forwarded-User", "alice"), ("X-Forwarded-For", "203.0.113.9"),
                                       ("X-OpenClaw-Scopes", "operator.read")])
        self.assertEqual(implied.json()["scopes"], ["operator.read"])
        empty = self.get("/whoami", [("X-Forwarded-User", "alice"), ("X-Forwarded-For", "203.0.113.9"),
                                     ("X-OpenClaw-Scopes", "")])
        self.assertEqual(empty.json()["scopes"], [])

    def test_a_refused_identity_is_403_and_logged(self):
        res, (line,) = self.gw.observe(lambda: self.get("/whoami", [("X-Forwarded-User", "mallory"),
                                                                   ("X-Forwarded-For", "203.0.113.9")]))
        self.assertEqual(res.status, 403)
        self.assertEqual(res.json(), {"error": {"type": "forbidden", "message": "Forbidden",
                                                "reason": "trusted_proxy_user_not_allowed"}})
        self.assertEqual((line["decision"], line["reason"], line["user"], line["status"]),
                         ("deny", "trusted_proxy_user_not_allowed", "mallory", 403))

    def test_refusals_are_401_with_the_reason_when_exposed(self):
        cases = [
            ([("X-Forwarded-User", "alice"), ("X-Forwarded-User", "bob"), ("X-Forwarded-For", "203.0.113.9")],
             "trusted_proxy_user_ambiguous"),
            ([("X-Forwarded-User", "alice, bob"), ("X-Forwarded-For", "203.0.113.9")], "trusted_proxy_user_ambiguous"),
            ([("X-Forwarded-For", "203.0.113.9")], "trusted_proxy_user_missing"),
            # A browser page on another origin (DNS rebinding) is not a local tool.
            ([("Origin", "http://evil.example")], "trusted_proxy_user_missing"),
            ([("Host", "evil.example")], "trusted_proxy_user_missing"),
        ]
        for headers, reason in cases:
            with self.subTest(reason=reason, headers=headers):
                res, (line,) = self.gw.observe(lambda: self.get("/whoami", headers))
                self.assertEqual(res.status, 401)
                self.assertEqual(res.json(), {"error": {"type": "unauthorized", "message": "Unauthorized", "reason": reason}})
                self.assertEqual(res.headers.get("www-authenticate"), "Bearer")
                self.assertEqual((line["decision"], line["reason"], line["via"], line["user"]), ("deny", reason, "none", None))

    def test_underscore_header_is_not_the_user_header(self):
        res = self.get("/whoami", [("X_Forwarded_User", "alice")])
        self.assertEqual(res.json()["user"], "operator@localhost")

    def test_rpc_with_and_without_the_scope(self):
        alice = [("X-Forwarded-User", "alice"), ("X-Forwarded-For", "203.0.113.9")]
        ok = self.get("/rpc/chat.send", alice, "POST", '{"text":"hi"}')
        self.assertEqual(ok.json(), {"ok": True, "method": "chat.send",
                                     "result": {"user": "alice", "via": "trusted-proxy", "params": {"text": "hi"}}})
        denied, (line,) = self.gw.observe(lambda: self.get("/rpc/config.set", alice, "POST", "{}"))
        self.assertEqual(denied.status, 403)
        self.assertEqual(denied.json(), {"error": {"type": "forbidden", "message": "missing scope: operator.admin",
                                                   "reason": "missing_scope"}})
        self.assertEqual((line["decision"], line["reason"], line["user"], line["method"], line["detail"], line["status"]),
                         ("deny", "missing_scope", "alice", "config.set", "operator.admin", 403))
        unknown = self.get("/rpc/no.such.method", alice, "POST", "{}")
        self.assertEqual(unknown.json()["error"]["message"], "missing scope: operator.admin")

    def test_rpc_body_must_be_a_json_object(self):
        for body in ("not json", "[1,2]", "[" * 10000):
            with self.subTest(body=body[:10]):
                res = self.get("/rpc/health", (), "POST", body)
                self.assertEqual(res.status, 400)
                self.assertEqual(res.json()["error"]["type"], "bad_request")
        self.assertEqual(self.get("/rpc/health", (), "POST").status, 200)  # no body: no params

    def test_wrong_methods_and_unknown_routes(self):
        self.assertEqual(self.get("/rpc/health").status, 405)
        self.assertEqual(self.get("/rpc/health").headers["allow"], "POST")
        self.assertEqual(self.get("/whoami", method="DELETE").status, 405)
        self.assertEqual(self.get("/nope").status, 404)
        self.assertEqual(self.get("/ws").status, 426)

    def test_every_response_carries_hsts(self):
        for res in (self.get("/healthz"), self.get("/whoami"), self.get("/nope"),
                    self.get("/whoami", [("X-Forwarded-For", "1.2.3.4")])):
            self.assertEqual(res.headers.get("strict-transport-security"), "max-age=63072000")
        raw = harness.raw_exchange("127.0.0.1", self.gw.port, b"BROKEN\r\n\r\n").decode()
        self.assertIn("Strict-Transport-Security: max-age=63072000", raw)

    def test_websocket_rpc(self):
        ws = WebSocket("127.0.0.1", self.gw.port, headers=[("X-Forwarded-User", "alice"), ("X-Forwarded-For", "203.0.113.9")])
        self.assertEqual(ws.status, 101)
        self.assertEqual(ws.headers.get("strict-transport-security"), "max-age=63072000")
        self.assertEqual(ws.call({"id": 1, "method": "chat.send", "params": {"text": "hi"}}),
                         {"id": 1, "ok": True, "result": {"user": "alice", "via": "trusted-proxy", "params": {"text": "hi"}}})
        answer, (line,) = self.gw.observe(lambda: ws.call({"id": 2, "method": "config.set", "params": {}}))
        self.assertEqual(answer, {"id": 2, "ok": False, "error": {"code": "FORBIDDEN", "message": "missing scope: operator.admin",
                                                                  "details": {"code": "MISSING_SCOPE",
                                                                              "missingScope": "operator.admin"}}})
        self.assertEqual((line["route"], line["reason"], line["method"], line["user"]), ("/ws", "missing_scope", "config.set", "alice"))
        self.assertEqual(ws.call({"id": 3, "method": "status"})["ok"], True)  # params are optional
        bad = ws.call({"id": 4, "params": {}})
        self.assertEqual((bad["id"], bad["ok"], bad["error"]["code"]), (4, False, "INVALID_REQUEST"))
        self.assertEqual(ws.call({"id": 5, "method": "x", "params": []})["error"]["code"], "INVALID_REQUEST")
        ws.send_text("not json")
        self.assertEqual(json.loads(ws.receive()[1])["id"], None)
        ws.send_binary(b"\x00\x01")
        self.assertEqual(ws.close_code(), 1003)
        ws.close()

    def test_websocket_scopes_come_from_the_upgrade_request(self):
        ws = WebSocket("127.0.0.1", self.gw.port, headers=[("X-Forwarded-User", "alice"), ("X-Forwarded-For", "203.0.113.9"),
                                                           ("X-OpenClaw-Scopes", "operator.approvals")])
        self.assertEqual(ws.call({"id": 1, "method": "approvals.resolve"})["ok"], True)
        self.assertEqual(ws.call({"id": 2, "method": "chat.send"})["error"]["details"]["missingScope"], "operator.write")
        ws.close()

    def test_websocket_upgrade_is_refused_like_http(self):
        ws = WebSocket("127.0.0.1", self.gw.port, headers=[("X-Forwarded-User", "mallory"), ("X-Forwarded-For", "203.0.113.9")])
        self.assertEqual(ws.status, 403)
        self.assertEqual(ws.json(), {"error": {"type": "forbidden", "message": "Forbidden",
                                               "reason": "trusted_proxy_user_not_allowed"}})
        ws = WebSocket("127.0.0.1", self.gw.port, headers=[("X-Forwarded-For", "203.0.113.9")])
        self.assertEqual(ws.status, 401)

    def test_bad_http_gets_400_and_the_server_stays_up(self):
        for garbage in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", b"\x16\x03\x01\x00\x05hello"):
            with self.subTest(garbage=garbage):
                answer = harness.raw_exchange("127.0.0.1", self.gw.port, garbage)
                self.assertTrue(answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer)
        self.assertEqual(self.get("/healthz").status, 200)

    def test_size_limits(self):
        big_header = self.get("/whoami", [("X-Padding", "a" * 20000)])
        self.assertEqual(big_header.status, 431)
        big_body = self.get("/rpc/health", (), "POST", '{"a":"' + "a" * (2 * 1024 * 1024) + '"}')
        self.assertEqual(big_body.status, 413)
        self.assertEqual(self.get("/healthz").status, 200)

    def test_audit_log_holds_no_header_values(self):
        secret = "Basic c2VjcmV0OnBhc3N3b3Jk"
        self.gw.observe(lambda: self.get("/whoami", [("Authorization", secret), ("Cookie", "session=cookie-secret"),
                                                     ("X-Forwarded-For", "1.2.3.4")]))
        log = self.gw.log_text()
        self.assertNotIn("c2VjcmV0", log)
        self.assertNotIn("cookie-secret", log)


class ForwardedHeader(unittest.TestCase):
    def test_client_ip_from_rfc_7239_forwarded(self):
        config = trusted_proxy_config()
        config["gateway"]["clientIpHeader"] = "forwarded"
        gw = Gateway(ARGS.gateway, config, DIR)

        def client_ip(*headers):
            res = request("GET", "127.0.0.1", gw.port, "/whoami", [("X-Forwarded-User", "alice"), *headers])
            self.assertEqual(res.status, 200, res.body)
            return res.json()["clientIp"]

        self.assertEqual(client_ip(("Forwarded", 'for="[2001:db8:cafe::17]:4711";proto=https')), "2001:db8:cafe::17")
        self.assertEqual(client_ip(("Forwarded", "for=203.0.113.9, for=127.0.0.1")), "203.0.113.9")
        # Obfuscated and unknown nodes are malformed: the peer. x-forwarded-for is not read.
        self.assertEqual(client_ip(("Forwarded", "for=203.0.113.9, for=unknown")), "127.0.0.1")
        self.assertEqual(client_ip(("Forwarded", "for=_hidden")), "127.0.0.1")
        self.assertEqual(client_ip(("X-Forwarded-For", "203.0.113.9")), "127.0.0.1")
        self.assertEqual(gw.stop(), 0)


class TokenMode(unittest.TestCase):
    def test_token_mode_and_rate_limiting(self):
        config = trusted_proxy_config(mode="token", token=TOKEN,
                                      rateLimit={"maxAttempts": 3, "windowMs": 60000, "lockoutMs": 30000,
                                                 "exemptLoopback": False})
        gw = Gateway(ARGS.gateway, config, DIR)
        port = gw.port

        def whoami(token=None):
            return request("GET", "127.0.0.1", port, "/whoami", [("Authorization", f"Bearer {token}")] if token else [])

        self.assertEqual(whoami().json()["error"]["reason"], "token_missing")
        ok = whoami(TOKEN)
        self.assertEqual(ok.json(), {"user": "token", "via": "token", "scopes": ["operator.admin"], "clientIp": "127.0.0.1"})
        for _ in range(3):
            self.assertEqual(whoami("wrong").json()["error"]["reason"], "token_mismatch")
        locked = whoami(TOKEN)
        self.assertEqual(locked.status, 429)
        self.assertEqual(locked.json(), {"error": {"type": "rate_limited", "message": "Too Many Requests",
                                                   "reason": "rate_limited"}})
        self.assertTrue(0 < int(locked.headers["retry-after"]) <= 30, locked.headers)
        # A spoofed identity header does nothing in token mode.
        self.assertEqual(request("GET", "127.0.0.1", port, "/whoami", [("X-Forwarded-User", "alice")]).status, 401)
        self.assertEqual(gw.stop(), 0)
        self.assertNotIn(TOKEN, gw.log_text())
        self.assertNotIn("wrong", gw.log_text())


    def test_global_ceiling_locks_every_client(self):
        config = trusted_proxy_config(mode="token", token=TOKEN,
                                      rateLimit={"maxAttempts": 10, "lockoutMs": 30000, "exemptLoopback": False,
                                                 "globalMaxAttempts": 3})
        gw = Gateway(ARGS.gateway, config, DIR)

        def whoami(token, source):
            return request("GET", "127.0.0.1", gw.port, "/whoami", [("Authorization", f"Bearer {token}")], source=source)

        self.assertEqual(whoami(TOKEN, "127.0.0.5").status, 200)
        for source in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
            self.assertEqual(whoami("wrong", source).json()["error"]["reason"], "token_mismatch")
        # Three clients, one failure each: every client is locked, the right token included.
        locked = whoami(TOKEN, "127.0.0.5")
        self.assertEqual(locked.status, 429)
        self.assertTrue(0 < int(locked.headers["retry-after"]) <= 30, locked.headers)
        self.assertEqual(gw.stop(), 0)


class NoneMode(unittest.TestCase):
    def test_none_mode_on_loopback(self):
        gw = Gateway(ARGS.gateway, {"gateway": {"port": 0, "auth": {"mode": "none"}}}, DIR)
        res = request("GET", "127.0.0.1", gw.port, "/whoami")
        self.assertEqual(res.json(), {"user": "anonymous", "via": "none", "scopes": ["operator.read"], "clientIp": "127.0.0.1"})
        gw.stop()


class DualStack(unittest.TestCase):
    def test_ipv4_peer_on_a_dual_stack_listener_is_its_ipv4_address(self):
        # Only the IPv4 entry is trusted: the peer arrives as ::ffff:127.0.0.1 and must match it.
        config = {"gateway": {"bind": "::", "port": 0, "trustedProxies": ["127.0.0.1"],
                              "auth": {"exposeReasons": True,
                                       "trustedProxy": {"allowLoopback": True, "loopbackUser": "operator@localhost"}}}}
        gw = start_or_skip(self, config, "Address family not supported", "no IPv6 on this machine")
        self.assertEqual(gw.host, "::")
        v4, (line,) = gw.observe(lambda: request("GET", "127.0.0.1", gw.port, "/whoami"))
        self.assertEqual(v4.json(), {"user": "operator@localhost", "via": "loopback-user", "scopes": ["operator.read"],
                                     "clientIp": "127.0.0.1"})
        self.assertEqual(line["peer"], "127.0.0.1")
        v6, (line,) = gw.observe(lambda: request("GET", "::1", gw.port, "/whoami"))
        self.assertEqual(v6.json()["error"]["reason"], "trusted_proxy_untrusted_source")
        self.assertEqual(line["peer"], "::1")
        gw.stop()


class Tls(unittest.TestCase):
    def test_tls_on_the_same_port(self):
        harness.require_tools("openssl")
        cert, key = os.path.join(DIR, "cert.pem"), os.path.join(DIR, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        config = trusted_proxy_config()
        config["gateway"]["tls"] = {"enabled": True, "certPath": cert, "keyPath": key}
        config["gateway"]["http"] = {"securityHeaders": {"strictTransportSecurity": "max-age=300"}}
        gw = Gateway(ARGS.gateway, config, DIR)
        self.assertTrue(gw.url.startswith("https://127.0.0.1:"))
        context = ssl.create_default_context(cafile=cert)
        res = request("GET", "127.0.0.1", gw.port, "/whoami", tls_context=context)
        self.assertEqual(res.json()["user"], "operator@localhost")
        self.assertEqual(res.headers["strict-transport-security"], "max-age=300")
        ws = WebSocket("127.0.0.1", gw.port, tls_context=context)
        self.assertEqual(ws.call({"id": 1, "method": "health"})["ok"], True)
        ws.close()
        # Plain HTTP on the TLS port is told so.
        plain = request("GET", "127.0.0.1", gw.port, "/whoami")
        self.assertEqual((plain.status, plain.json()["error"]["type"]), (400, "tls_required"))
        # Nothing older than TLS 1.2.
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(cert)
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            request("GET", "127.0.0.1", gw.port, "/healthz", tls_context=old)
        self.assertEqual(request("GET", "127.0.0.1", gw.port, "/healthz", tls_context=context).status, 200)
        gw.stop()


class Drain(unittest.TestCase):
    def test_sigterm_drains_and_exits_0(self):
        gw = Gateway(ARGS.gateway, trusted_proxy_config(), DIR)
        ws = WebSocket("127.0.0.1", gw.port)
        self.assertEqual(ws.call({"id": 1, "method": "health"})["ok"], True)
        idle = socket.create_connection(("127.0.0.1", gw.port))
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        self.assertIn(b"200 OK", idle.recv(4096))
        gw.proc.send_signal(signal.SIGTERM)
        self.assertEqual(ws.close_code(), 1001)  # going away
        ws.close()
        idle.settimeout(5)
        self.assertEqual(idle.recv(4096), b"")  # the idle keep-alive connection is closed
        self.assertEqual(gw.proc.wait(10), 0)  # a second signal would end it at once
        events = [line["event"] for line in gw.lines]
        self.assertEqual(events[-2:], ["draining", "stopped"])


class MinimalExample(unittest.TestCase):
    def test_minimal_gateway(self):
        if not ARGS.minimal:
            self.skipTest("no --minimal")
        proc = harness.spawn([ARGS.minimal, "0"], stderr=subprocess.PIPE, text=True)
        line = proc.stderr.readline()
        self.assertTrue(line.startswith("listening on 127.0.0.1:"), line)
        port = int(line.rsplit(":", 1)[1])
        # The handler reads the body only once authenticated, and reports its size.
        self.assertEqual(request("GET", "127.0.0.1", port, "/").body, "hello, operator@localhost (0 bytes)\n")
        spoofed = request("GET", "127.0.0.1", port, "/", [("X-Forwarded-For", "1.2.3.4")])
        self.assertEqual(spoofed.status, 401)
        self.assertEqual(harness.stop(proc), 0)
        proc.stderr.close()


if __name__ == "__main__":
    harness.main()
