#!/usr/bin/env python3
"""behaviour §11 with the real things: a private CA made here with the openssl CLI, the
gateway on TLS asking for client certificates, and Debian's nginx in front presenting
(or not) one with proxy_ssl_certificate: the allowed name passes; no certificate, another
name, a server-only certificate or one from another CA are refused."""

import os
import ssl
import subprocess
import tempfile
import unittest

import harness
from harness import Gateway, request

harness.require_tools("nginx", "openssl")
ARGS = harness.arguments()
DIR = harness.work_dir()
PKI = tempfile.mkdtemp(prefix="pki-", dir=DIR)
os.chmod(PKI, 0o755)


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, cwd=PKI, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.pem")


def make_cert(name, ca, cn, sans, usage):
    """A leaf signed by `ca`; `usage` is its extendedKeyUsage."""
    ext = harness.write_file(os.path.join(PKI, f"{name}.ext"),
                             (f"subjectAltName={sans}\n" if sans else "") + f"extendedKeyUsage={usage}\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={cn}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-days", "2", "-extfile", ext, "-out", f"{name}.pem")
    os.chmod(os.path.join(PKI, f"{name}.key"), 0o644)  # nginx's workers run as nobody; test material only


make_ca("proxy-ca")
make_ca("other-ca")
make_cert("server", "proxy-ca", "localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth")
make_cert("proxy", "proxy-ca", "front-proxy", "DNS:Front-Proxy.example.internal", "clientAuth")
make_cert("cn-only", "proxy-ca", "front-proxy.example.internal", None, "clientAuth")
make_cert("other-name", "proxy-ca", "other", "DNS:other.example.internal", "clientAuth")
make_cert("server-usage", "proxy-ca", "front-proxy", "DNS:front-proxy.example.internal", "serverAuth")
make_cert("other-ca-proxy", "other-ca", "front-proxy", "DNS:front-proxy.example.internal", "clientAuth")


def pki(name):
    return os.path.join(PKI, name)


def config(allowed_names):
    return {"gateway": {"port": 0, "trustedProxies": ["127.0.0.1"],
                        "tls": {"enabled": True, "certPath": pki("server.pem"), "keyPath": pki("server.key"),
                                "clientCaPath": pki("proxy-ca.pem")},
                        "auth": {"mode": "trusted-proxy", "exposeReasons": True,
                                 "trustedProxy": {"allowLoopback": True, "loopbackUser": "operator@localhost",
                                                  "allowUsers": ["alice", "operator@localhost"],
                                                  "clientCertificate": {"allowedNames": allowed_names}}}}}


CLIENTS = {"allowed": "proxy", "cnonly": "cn-only", "othername": "other-name", "serverusage": "server-usage",
           "otherca": "other-ca-proxy", "none": None}


def site(gateway_port, listen_port):
    locations = []
    for path, cert in CLIENTS.items():
        lines = [f"location /{path}/ {{", f"    proxy_pass https://127.0.0.1:{gateway_port}/;",
                 "    proxy_set_header X-Forwarded-User alice;"]
        if cert:
            lines += [f"    proxy_ssl_certificate {pki(cert + '.pem')};", f"    proxy_ssl_certificate_key {pki(cert + '.key')};"]
        locations.append("\n".join(lines) + "\n}")
    return f"server {{\n    listen 127.0.0.1:{listen_port};\n" + "\n".join(locations) + "\n}\n"


class ProxyCertificate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(ARGS.gateway, config(["front-proxy.example.internal"]), DIR)
        cls.proxy_port = harness.free_port()
        harness.start_nginx(DIR, site(cls.gw.port, cls.proxy_port), "127.0.0.1", cls.proxy_port)

    def via_nginx(self, path):
        return self.gw.observe(lambda: request("GET", "127.0.0.1", self.proxy_port, f"/{path}/whoami"))

    def test_the_allowed_certificate_passes(self):
        res, (line,) = self.via_nginx("allowed")
        self.assertEqual(res.status, 200, res.body)
        self.assertEqual((res.json()["user"], res.json()["via"]), ("alice", "trusted-proxy"))
        self.assertEqual(line["decision"], "allow")

    def test_the_cn_counts_without_dns_sans(self):
        res, _ = self.via_nginx("cnonly")
        self.assertEqual(res.status, 200, res.body)

    def test_refused(self):
        for path, why in (("none", "trusted_proxy_certificate_missing"),
                          ("othername", "trusted_proxy_certificate_not_allowed"),
                          ("serverusage", "trusted_proxy_certificate_missing"),
                          ("otherca", "trusted_proxy_certificate_missing")):
            with self.subTest(path=path):
                res, (line,) = self.via_nginx(path)
                self.assertEqual((res.status, res.json()["error"].get("reason")), (401, why), res.body)
                self.assertEqual(line["decision"], "deny")

    def test_a_local_tool_over_tls_without_a_certificate_still_connects(self):
        context = ssl.create_default_context(cafile=pki("proxy-ca.pem"))
        res = request("GET", "127.0.0.1", self.gw.port, "/whoami", tls_context=context)
        self.assertEqual((res.status, res.json()["via"]), (200, "loopback-user"), res.body)
        # The same tool naming a user is a header-path request: it needs the certificate.
        res = request("GET", "127.0.0.1", self.gw.port, "/whoami", [("X-Forwarded-User", "alice")], tls_context=context)
        self.assertEqual((res.status, res.json()["error"].get("reason")), (401, "trusted_proxy_certificate_missing"))


class ConfigErrors(unittest.TestCase):
    def test_client_certificate_needs_a_client_ca(self):
        c = config([])
        del c["gateway"]["tls"]["clientCaPath"]
        done = harness.run_gateway_once(ARGS.gateway, "--check-config", config=c, directory=DIR)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("config error: gateway.auth.trustedProxy.clientCertificate: expected gateway.tls.clientCaPath",
                      done.stderr)


if __name__ == "__main__":
    unittest.main()
