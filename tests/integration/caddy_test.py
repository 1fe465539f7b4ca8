#!/usr/bin/env python3
"""trustgate-gateway behind Caddy, configured by examples/deploy/Caddyfile (basicauth and
header_up X-Forwarded-User). Caddy runs on this host, so the gateway trusts 127.0.0.1."""

import os
import subprocess
import unittest

import harness
from harness import Gateway, basic_auth
from proxy_checks import ProxiedGatewayChecks, gateway_config

harness.require_tools("caddy", "htpasswd")
ARGS = harness.arguments()
DIR = harness.work_dir()


class CaddyBasicAuth(ProxiedGatewayChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(ARGS.gateway, gateway_config(), DIR)
        # The deploy file's bcrypt cost of 14 takes about a second per check: the test
        # users get cheap hashes (Caddy accepts htpasswd's $2y$ form).
        cls.proxy_port = harness.free_port()
        with open(os.path.join(ARGS.deploy, "Caddyfile")) as f:
            alice_line = next(line.strip() for line in f if line.strip().startswith("alice $2"))
        caddyfile = "{\n\tadmin off\n}\n\n" + harness.deploy_config(os.path.join(ARGS.deploy, "Caddyfile"), {
            "gateway.example.com {": f"http://127.0.0.1:{cls.proxy_port} {{",
            "reverse_proxy 127.0.0.1:18789 {": f"reverse_proxy 127.0.0.1:{cls.gw.port} {{",
            alice_line: "\n\t\t".join(harness.htpasswd_line(user).replace(":", " ", 1) for user in harness.PASSWORDS),
        })
        harness.start_caddy(DIR, caddyfile, "127.0.0.1", cls.proxy_port)

    def signed_in(self, user):
        return [basic_auth(user, harness.PASSWORDS[user])]

    def test_deploy_file_password_works_as_documented(self):
        # The example hash in the deploy file really is "wonderland".
        with open(os.path.join(ARGS.deploy, "Caddyfile")) as f:
            documented = next(line.split()[1] for line in f if line.strip().startswith("alice $2"))
        passwords = harness.write_file(os.path.join(DIR, "documented.htpasswd"), f"alice:{documented}\n")
        check = subprocess.run(["htpasswd", "-vb", passwords, "alice", "wonderland"], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stderr)


if __name__ == "__main__":
    harness.main()
