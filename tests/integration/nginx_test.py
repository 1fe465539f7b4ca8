#!/usr/bin/env python3
"""trustgate-gateway behind Debian's nginx, configured by the files in examples/deploy:
auth_basic with an htpasswd file, and auth_request in front of an authentication service
(a stand-in for oauth2-proxy). nginx runs on this host, so the gateway trusts 127.0.0.1."""

import http.server
import os
import threading
import unittest

import harness
from harness import Gateway, WebSocket, basic_auth, request
from proxy_checks import ProxiedGatewayChecks, gateway_config

harness.require_tools("nginx", "htpasswd")
ARGS = harness.arguments()
DIR = harness.work_dir()


class AuthBasic(ProxiedGatewayChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(ARGS.gateway, gateway_config(), DIR)
        cls.proxy_port = harness.start_nginx_basic_auth(DIR, ARGS.deploy, "127.0.0.1", f"127.0.0.1:{cls.gw.port}")

    def signed_in(self, user):
        return [basic_auth(user, harness.PASSWORDS[user])]

    def test_wrong_password(self):
        res, lines = self.gw.observe(lambda: self.get("/whoami", [basic_auth("alice", "nope")]))
        self.assertEqual((res.status, lines), (401, []))

    def test_client_ip_is_attributed_through_the_proxy(self):
        res = self.get("/whoami", self.signed_in("alice") + [("X-Forwarded-For", "203.0.113.7")])
        # nginx appends its client (127.0.0.1, a trusted hop); the first untrusted entry
        # from the right is what the client claimed: only logs ever use it.
        self.assertEqual(res.json()["clientIp"], "203.0.113.7")


class CrossSite(unittest.TestCase):
    """behaviour §7: a page on another site driving a signed-in browser's WebSocket through
    nginx is refused after authentication; the gateway's own host and
    gateway.http.allowedOrigins are not."""

    @classmethod
    def setUpClass(cls):
        config = gateway_config()
        config["gateway"]["http"] = {"allowedOrigins": ["https://app.example"]}
        cls.gw = Gateway(ARGS.gateway, config, DIR)
        cls.proxy_port = harness.start_nginx_basic_auth(DIR, ARGS.deploy, "127.0.0.1", f"127.0.0.1:{cls.gw.port}")

    def websocket(self, origin):
        return WebSocket("127.0.0.1", self.proxy_port, headers=[basic_auth("alice", harness.PASSWORDS["alice"]),
                                                                ("Origin", origin)])

    def test_a_cross_site_upgrade_is_403(self):
        for origin in ("https://evil.example", "null", "https://app.example.evil.example"):
            with self.subTest(origin=origin):
                ws, (line,) = self.gw.observe(lambda: self.websocket(origin))
                self.assertEqual(ws.status, 403, ws.body)
                self.assertEqual(ws.json(), {"error": {"type": "forbidden", "message": "Cross-site request",
                                                       "reason": "origin_not_allowed"}})
                self.assertEqual((line["reason"], line["user"], line["status"]), ("origin_not_allowed", "alice", 403))

    def test_allowed_and_same_host_origins_get_101(self):
        for origin in ("https://app.example", f"http://127.0.0.1:{self.proxy_port}"):
            with self.subTest(origin=origin):
                ws = self.websocket(origin)
                self.assertEqual(ws.status, 101, ws.body)
                self.assertTrue(ws.call({"id": 1, "method": "health"})["ok"])
                ws.close()

    def test_a_cross_site_post_is_403(self):
        res = request("POST", "127.0.0.1", self.proxy_port, "/rpc/health",
                      [basic_auth("alice", harness.PASSWORDS["alice"]), ("Origin", "https://evil.example")], "{}")
        self.assertEqual((res.status, res.json()["error"]["reason"]), (403, "origin_not_allowed"))


class AuthService(http.server.BaseHTTPRequestHandler):
    """A stand-in for oauth2-proxy's /oauth2/auth: a `session=<user>` cookie signs in."""

    USERS = {"alice": "alice@example.com", "bob": "bob@example.com", "carol": None}

    def do_GET(self):
        cookie = self.headers.get("Cookie", "")
        user = cookie[len("session="):] if cookie.startswith("session=") else None
        if self.path.startswith("/oauth2/auth") and user in self.USERS:
            self.send_response(202)
            self.send_header("X-Auth-Request-User", user)
            if self.USERS[user]:
                self.send_header("X-Auth-Request-Email", self.USERS[user])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"please sign in"
        self.send_response(401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class AuthRequest(ProxiedGatewayChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(ARGS.gateway, gateway_config(requiredHeaders=["x-auth-request-email"]), DIR)
        service = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AuthService)
        threading.Thread(target=service.serve_forever, daemon=True).start()
        harness.at_exit(service.shutdown)
        cls.proxy_port = harness.free_port()
        site = harness.deploy_config(os.path.join(ARGS.deploy, "nginx-auth-request.conf"), {
            "listen 8080;": f"listen 127.0.0.1:{cls.proxy_port};",
            "proxy_pass http://127.0.0.1:18789;": f"proxy_pass http://127.0.0.1:{cls.gw.port};",
            "proxy_pass http://127.0.0.1:4180;": f"proxy_pass http://127.0.0.1:{service.server_address[1]};",
        })
        harness.start_nginx(DIR, site, "127.0.0.1", cls.proxy_port)

    def signed_in(self, user):
        return [("Cookie", f"session={user}")]

    def test_sign_in_page_for_strangers(self):
        res = self.get("/whoami")
        self.assertEqual((res.status, res.body), (401, "please sign in"))

    def test_required_header_missing(self):
        # The service vouches for carol but sends no email: the proxy contract is broken.
        res, (line,) = self.gw.observe(lambda: self.get("/whoami", self.signed_in("carol")))
        self.assertEqual(res.json()["error"]["reason"], "trusted_proxy_missing_header")
        self.assertEqual(line["detail"], "x-auth-request-email")

    def test_bypassing_the_proxy_lacks_the_required_header(self):
        # A local process imitating the proxy: it cannot know to add the required header.
        res = request("GET", "127.0.0.1", self.gw.port, "/whoami",
                      [("X-Forwarded-User", "alice"), ("X-Forwarded-For", "127.0.0.1")])
        self.assertEqual(res.json()["error"]["reason"], "trusted_proxy_missing_header")


if __name__ == "__main__":
    harness.main()
