#!/usr/bin/env python3
"""behaviour §1's local process proof against the real things: Debian's nginx (workers as
www-data) in front of the gateway with the classic broken `location /ws` block, whose own
proxy_set_header lines make nginx inherit none of the server's (no X-Forwarded-For, no
X-Forwarded-User, Host 127.0.0.1:PORT), so by its headers the request is a local tool's.
The kernel says it is www-data's; only the gateway's own user (or localUsers) is a local
tool. Also curl as other users, and the Unix socket (curl --unix-socket)."""

import os
import pwd
import socket
import stat
import subprocess
import unittest

import harness
from harness import Gateway, WebSocket, basic_auth, request

harness.require_root("runuser and nginx workers as www-data")
harness.require_tools("nginx", "htpasswd", "curl", "runuser")
ARGS = harness.arguments()
DIR = harness.work_dir()
os.chmod(DIR, 0o755)  # other users' curl must reach the gateway's files' directory

WWW_DATA = pwd.getpwnam("www-data").pw_uid
NOBODY = pwd.getpwnam("nobody").pw_uid

# Exactly the mistake: server-level proxy_set_header lines, and a location that sets its
# own (for the upgrade) and so inherits none of them.
BROKEN_SITE = """
server {{
    listen 127.0.0.1:{port};
    proxy_set_header X-Forwarded-User $remote_user;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header Host $host;

    location / {{
        auth_basic "trustgate";
        auth_basic_user_file {htpasswd};
        proxy_pass http://127.0.0.1:{gateway};
    }}

    location /ws {{
        proxy_pass http://127.0.0.1:{gateway};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
    }}
}}
"""


def config(socket_path=None, **trusted_proxy):
    """The embedded default configuration (behaviour §9) on a free port."""
    proxy = {"userHeader": "x-forwarded-user", "allowLoopback": True, "loopbackUser": "operator@localhost"}
    proxy.update(trusted_proxy)
    gateway = {"bind": "127.0.0.1", "port": 0, "trustedProxies": ["127.0.0.1", "::1"],
               "auth": {"mode": "trusted-proxy", "exposeReasons": True, "trustedProxy": proxy}}
    if socket_path:
        gateway["localSocket"] = socket_path
    return {"gateway": gateway}


def curl(url, user=None, unix_socket=None):
    """curl (as `user` through runuser when given): (exit status, HTTP status, body)."""
    argv = ["curl", "-s", "-m", "10", "-o", "-", "-w", "\n%{http_code}"]
    if unix_socket:
        argv += ["--unix-socket", unix_socket]
    argv.append(url)
    if user:
        argv = ["runuser", "-u", user, "--"] + argv
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    body, _, status = out.stdout.rpartition("\n")
    return out.returncode, int(status or 0), body


class BrokenNginxLocation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.socket_path = os.path.join(DIR, "gateway.sock")
        cls.gw = Gateway(ARGS.gateway, config(cls.socket_path), DIR)
        htpasswd = harness.write_file(os.path.join(DIR, "htpasswd"), harness.htpasswd_line("alice") + "\n")
        cls.proxy_port = harness.free_port()
        site = BROKEN_SITE.format(port=cls.proxy_port, gateway=cls.gw.port, htpasswd=htpasswd)
        harness.start_nginx(DIR, site, "127.0.0.1", cls.proxy_port, user="www-data")

    def test_http_through_the_broken_location_is_refused(self):
        res, (line,) = self.gw.observe(lambda: request("GET", "127.0.0.1", self.proxy_port, "/ws"))
        self.assertEqual(res.status, 401)
        self.assertEqual(res.json()["error"]["reason"], "trusted_proxy_user_missing")
        self.assertEqual((line["peer"], line["via"], line["localUid"]), ("127.0.0.1", "none", WWW_DATA))

    def test_websocket_through_the_broken_location_is_refused(self):
        ws, lines = self.gw.observe(lambda: WebSocket("127.0.0.1", self.proxy_port, "/ws"))
        self.assertEqual(ws.status, 401)
        self.assertEqual([(line["decision"], line["localUid"]) for line in lines], [("deny", WWW_DATA)])

    def test_the_proper_location_still_works(self):
        res = request("GET", "127.0.0.1", self.proxy_port, "/whoami", [basic_auth("alice", harness.PASSWORDS["alice"])])
        self.assertEqual((res.status, res.json()["user"], res.json()["via"]), (200, "alice", "trusted-proxy"))

    def test_curl_as_the_gateway_user_is_a_local_tool(self):
        (code, status, body), (line,) = self.gw.observe(lambda: curl(f"http://127.0.0.1:{self.gw.port}/whoami"))
        self.assertEqual((code, status), (0, 200), body)
        self.assertIn('"via":"loopback-user"', body)
        self.assertEqual((line["user"], line["localUid"]), ("operator@localhost", os.geteuid()))

    def test_curl_as_another_user_is_not(self):
        (code, status, body), (line,) = self.gw.observe(lambda: curl(f"http://127.0.0.1:{self.gw.port}/whoami", "nobody"))
        self.assertEqual((code, status), (0, 401), body)
        self.assertEqual((line["reason"], line["localUid"]), ("trusted_proxy_user_missing", NOBODY))

    def test_the_unix_socket(self):
        mode = os.stat(self.socket_path).st_mode
        self.assertTrue(stat.S_ISSOCK(mode))
        self.assertEqual(stat.S_IMODE(mode), 0o660)
        (code, status, body), (line,) = self.gw.observe(
            lambda: curl("http://localhost/whoami", unix_socket=self.socket_path))
        self.assertEqual((code, status), (0, 200), body)
        self.assertIn('"via":"loopback-user"', body)
        self.assertEqual((line["peer"], line["localUid"], line["clientIp"]),
                         ("unix:" + self.socket_path, os.geteuid(), "127.0.0.1"))
        # Mode 0660, owned by root: nobody cannot even connect.
        code, _, _ = curl("http://localhost/whoami", "nobody", unix_socket=self.socket_path)
        self.assertEqual(code, 7)


class LocalUsers(unittest.TestCase):
    def test_local_users_naming_nobody_admits_nobody_and_only_nobody(self):
        gw = Gateway(ARGS.gateway, config(localUsers=["nobody"]), DIR)
        code, status, body = curl(f"http://127.0.0.1:{gw.port}/whoami", "nobody")
        self.assertEqual((code, status), (0, 200), body)
        self.assertIn('"user":"operator@localhost"', body)
        self.assertEqual(curl(f"http://127.0.0.1:{gw.port}/whoami")[1], 401)
        self.assertEqual(gw.stop(), 0)

    def test_an_unknown_user_is_a_config_error(self):
        result = harness.run_gateway_once(ARGS.gateway, "--check-config", config=config(localUsers=[0, "no-such-user-x"]),
                                          directory=DIR)
        self.assertEqual(result.returncode, 2)
        self.assertTrue(result.stderr.startswith("config error: gateway.auth.trustedProxy.localUsers[1]: "), result.stderr)


class LocalSocketFile(unittest.TestCase):
    def test_stale_socket_replaced_live_one_refused_removed_on_exit(self):
        path = os.path.join(DIR, "stale.sock")
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(path)
        stale.close()  # bound, never listening: what a crashed gateway leaves
        gw = Gateway(ARGS.gateway, config(path), DIR)
        self.assertEqual(curl("http://localhost/whoami", unix_socket=path)[1], 200)
        second = harness.run_gateway_once(ARGS.gateway, config=config(path), directory=DIR)
        self.assertEqual(second.returncode, 1)
        self.assertIn("another server is listening on it", second.stderr)
        self.assertEqual(curl("http://localhost/whoami", unix_socket=path)[1], 200)
        self.assertEqual(gw.stop(), 0)
        self.assertFalse(os.path.exists(path))

    def test_any_other_file_is_never_replaced(self):
        path = harness.write_file(os.path.join(DIR, "not-a-socket"), "keep me")
        result = harness.run_gateway_once(ARGS.gateway, config=config(path), directory=DIR)
        self.assertEqual(result.returncode, 1)
        self.assertIn("not a socket", result.stderr)
        with open(path) as f:
            self.assertEqual(f.read(), "keep me")

    def test_bad_values_are_config_errors(self):
        for c, path in [(config("relative.sock"), "gateway.localSocket"),
                        (config(localUsers="nobody"), "gateway.auth.trustedProxy.localUsers"),
                        (config(localUsers=[-1]), "gateway.auth.trustedProxy.localUsers[0]"),
                        (config(localUsers=[""]), "gateway.auth.trustedProxy.localUsers[0]"),
                        (config(localUsers=[4294967296]), "gateway.auth.trustedProxy.localUsers[0]")]:
            with self.subTest(path=path, config=c):
                result = harness.run_gateway_once(ARGS.gateway, "--check-config", config=c, directory=DIR)
                self.assertEqual(result.returncode, 2)
                self.assertTrue(result.stderr.startswith(f"config error: {path}: "), result.stderr)
        ok = harness.run_gateway_once(ARGS.gateway, "--check-config", config=config(localUsers=[65534, "0", "root"]),
                                      directory=DIR)
        self.assertEqual(ok.returncode, 0, ok.stderr)

    def test_the_socket_needs_a_trusted_127_0_0_1(self):
        c = config(os.path.join(DIR, "x.sock"))
        c["gateway"]["trustedProxies"] = ["::1"]
        result = harness.run_gateway_once(ARGS.gateway, "--check-config", config=c, directory=DIR)
        self.assertEqual(result.returncode, 2)
        self.assertTrue(result.stderr.startswith("config error: gateway.localSocket: "), result.stderr)


if __name__ == "__main__":
    harness.main()
