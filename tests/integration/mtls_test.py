#!/usr/bin/env python3
"""behaviour §11 with the real things: a private CA made here with the openssl CLI, the
gateway on TLS asking for client certificates, and Debian's nginx in front presenting
(or not) one with proxy_ssl_certificate: the allowed name passes; no certificate, another
name, a server-only certificate or one from another CA are refused. Rotating the CA file
and the server certificate under a bounded load fails no request: new handshakes use the
new files, an open connection keeps what it was verified under."""

import http.client
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
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
# The rotation's next CA, a proxy certificate from it and the next server certificate.
make_ca("next-ca")
make_cert("next-proxy", "next-ca", "front-proxy", "DNS:front-proxy.example.internal", "clientAuth")
make_cert("next-server", "proxy-ca", "localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth")


def pki(name):
    return os.path.join(PKI, name)


def config(allowed_names, files=PKI):
    return {"gateway": {"port": 0, "trustedProxies": ["127.0.0.1"],
                        "tls": {"enabled": True, "certPath": os.path.join(files, "server.pem"),
                                "keyPath": os.path.join(files, "server.key"),
                                "clientCaPath": os.path.join(files, "proxy-ca.pem")},
                        "auth": {"mode": "trusted-proxy", "exposeReasons": True,
                                 "trustedProxy": {"allowLoopback": True, "loopbackUser": "operator@localhost",
                                                  "allowUsers": ["alice", "operator@localhost"],
                                                  "clientCertificate": {"allowedNames": allowed_names}}}}}


CLIENTS = {"allowed": "proxy", "cnonly": "cn-only", "othername": "other-name", "serverusage": "server-usage",
           "otherca": "other-ca-proxy", "none": None}


def site(gateway_port, listen_port, clients=CLIENTS):
    locations = []
    for path, cert in clients.items():
        # Every location proxies to one upstream, whose cached TLS session nginx would
        # resume from another location (with that location's certificate, or none).
        lines = [f"location /{path}/ {{", f"    proxy_pass https://127.0.0.1:{gateway_port}/;",
                 "    proxy_ssl_session_reuse off;", "    proxy_set_header X-Forwarded-User alice;"]
        if cert:
            lines += [f"    proxy_ssl_certificate {pki(cert + '.pem')};", f"    proxy_ssl_certificate_key {pki(cert + '.key')};"]
        locations.append("\n".join(lines) + "\n}")
    return f"server {{\n    listen 127.0.0.1:{listen_port};\n" + "\n".join(locations) + "\n}\n"


class ProxyCertificate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        c = config(["front-proxy.example.internal"])
        cls.socket_path = os.path.join(DIR, "gateway.sock")
        c["gateway"]["localSocket"] = cls.socket_path
        cls.gw = Gateway(ARGS.gateway, c, DIR)
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

    def test_a_local_tool_over_plain_http_on_the_local_socket_still_works(self):
        out = subprocess.run(["curl", "-s", "-m", "10", "--unix-socket", self.socket_path, "http://localhost/whoami"],
                             capture_output=True, text=True, timeout=30)
        self.assertIn('"via":"loopback-user"', out.stdout.replace(" ", ""), out)


@unittest.skipUnless(shutil.which("caddy"), "caddy is not installed")
class CaddyClientAuth(unittest.TestCase):
    """Caddy's counterpart of proxy_ssl_certificate: reverse_proxy's tls_client_auth."""

    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(ARGS.gateway, config(["front-proxy.example.internal"]), DIR)
        cls.proxy_port = harness.free_port()
        routes = ""
        for path, client_auth in (("allowed", f"tls_client_auth {pki('proxy.pem')} {pki('proxy.key')}"), ("none", "")):
            routes += (f"\thandle_path /{path}/* {{\n\t\treverse_proxy https://127.0.0.1:{cls.gw.port} {{\n"
                       f"\t\t\theader_up X-Forwarded-User alice\n\t\t\ttransport http {{\n"
                       f"\t\t\t\ttls_trusted_ca_certs {pki('proxy-ca.pem')}\n\t\t\t\t{client_auth}\n"
                       f"\t\t\t}}\n\t\t}}\n\t}}\n")
        caddyfile = f"{{\n\tadmin off\n\tauto_https off\n}}\n\nhttp://127.0.0.1:{cls.proxy_port} {{\n{routes}}}\n"
        harness.start_caddy(DIR, caddyfile, "127.0.0.1", cls.proxy_port)

    def test_tls_client_auth_passes_and_its_absence_is_refused(self):
        res = request("GET", "127.0.0.1", self.proxy_port, "/allowed/whoami")
        self.assertEqual((res.status, res.json().get("via")), (200, "trusted-proxy"), res.body)
        res = request("GET", "127.0.0.1", self.proxy_port, "/none/whoami")
        self.assertEqual((res.status, res.json()["error"].get("reason")), (401, "trusted_proxy_certificate_missing"))


def client_context(cert=None):
    """What a local tool or a proxy of the test's own uses: trusts the CA that signs the
    server, presents `cert` if given."""
    context = ssl.create_default_context(cafile=pki("proxy-ca.pem"))
    if cert:
        context.load_cert_chain(pki(cert + ".pem"), pki(cert + ".key"))
    return context


class Connection:
    """One kept-alive TLS connection to the gateway, as a proxy holds it."""

    def __init__(self, port, cert):
        self.conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=client_context(cert))

    def whoami(self):
        self.conn.request("GET", "/whoami", headers={"X-Forwarded-User": "alice"})
        res = self.conn.getresponse()
        return harness.Response(res.status, {k.lower(): v for k, v in res.getheaders()}, res.read().decode())

    def server_certificate(self):
        return self.conn.sock.getpeercert(binary_form=True)

    def close(self):
        self.conn.close()


def replace_file(path, text):
    """As a deploy tool rotates a file: a new file renamed over the old one."""
    harness.write_file(path + ".new", text)
    os.replace(path + ".new", path)


def read(name):
    with open(pki(name)) as f:
        return f.read()


class Rotation(unittest.TestCase):
    LOAD_REQUESTS = 3000  # bounds: the load stops after the rotations, or at these
    LOAD_SECONDS = 40

    @classmethod
    def setUpClass(cls):
        cls.files = tempfile.mkdtemp(prefix="rotation-", dir=DIR)
        for name in ("server.pem", "server.key", "proxy-ca.pem"):
            shutil.copy(pki(name), os.path.join(cls.files, name))
        cls.gw = Gateway(ARGS.gateway, config(["front-proxy.example.internal"], cls.files), DIR)
        cls.proxy_port = harness.free_port()
        harness.start_nginx(DIR, site(cls.gw.port, cls.proxy_port, {"allowed": "proxy"}), "127.0.0.1", cls.proxy_port)

    def reloads(self):
        return [line for line in self.gw.lines if line.get("event") == "reload"]

    def rotate(self, changes):
        """Replaces the files, then waits until a reload has succeeded and none follows
        for a few of the reloader's polls (one that caught a key beside the old
        certificate is refused, keeps the old material, and the next change reloads)."""
        before = len(self.reloads())
        for name, text in changes:
            replace_file(os.path.join(self.files, name), text)
        deadline = time.monotonic() + 15
        seen, quiet_since = before, time.monotonic()
        while True:
            done = self.reloads()
            if len(done) != seen:
                seen, quiet_since = len(done), time.monotonic()
            if seen > before and done[-1]["result"] == "ok" and time.monotonic() - quiet_since > 1.5:
                self.assertEqual(done[-1]["trigger"], "tls file")
                return
            self.assertLess(time.monotonic(), deadline, f"no settled reload after the rotation; log: {self.gw.lines}")
            time.sleep(0.05)

    def test_rotating_the_ca_and_the_server_certificate_under_load(self):
        statuses = []
        rotated = threading.Event()

        def load():
            end = time.monotonic() + self.LOAD_SECONDS
            while not rotated.is_set() and len(statuses) < self.LOAD_REQUESTS and time.monotonic() < end:
                try:
                    statuses.append(request("GET", "127.0.0.1", self.proxy_port, "/allowed/whoami").status)
                except OSError as e:
                    statuses.append(repr(e))

        held = Connection(self.gw.port, "proxy")
        self.assertEqual(held.whoami().status, 200)
        old_server = held.server_certificate()
        loader = threading.Thread(target=load)
        loader.start()
        try:
            # Step one of a CA rotation: both CAs in the bundle.
            time.sleep(0.3)
            self.rotate([("proxy-ca.pem", read("proxy-ca.pem") + read("next-ca.pem"))])
            fresh = Connection(self.gw.port, "next-proxy")
            self.assertEqual(fresh.whoami().status, 200, "a new handshake verifies against the new bundle")
            fresh.close()
            # The server certificate, key first (as most tools write them).
            self.rotate([("server.key", read("next-server.key")), ("server.pem", read("next-server.pem"))])
            fresh = Connection(self.gw.port, None)
            fresh.whoami()
            self.assertNotEqual(fresh.server_certificate(), old_server, "a new handshake presents the new certificate")
            fresh.close()
        finally:
            rotated.set()
            loader.join()
        self.assertGreater(len(statuses), 20)
        self.assertEqual([s for s in statuses if s != 200], [], f"{len(statuses)} requests")
        print(f"\n{len(statuses)} requests through nginx during the rotations, none failed", file=sys.stderr)

        # Step two: the old CA leaves the bundle. The open connection was verified under
        # the old one and keeps going; a new handshake with the old CA's certificate fails.
        self.rotate([("proxy-ca.pem", read("next-ca.pem"))])
        self.assertEqual(held.whoami().status, 200)
        held.close()
        for cert, status in (("proxy", 401), ("next-proxy", 200)):
            connection = Connection(self.gw.port, cert)
            res = connection.whoami()
            connection.close()
            self.assertEqual(res.status, status, (cert, res.body))
            if status == 401:
                self.assertEqual(res.json()["error"].get("reason"), "trusted_proxy_certificate_missing")


class ConfigErrors(unittest.TestCase):
    def test_client_certificate_needs_a_client_ca(self):
        c = config([])
        del c["gateway"]["tls"]["clientCaPath"]
        done = harness.run_gateway_once(ARGS.gateway, "--check-config", config=c, directory=DIR)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("config error: gateway.auth.trustedProxy.clientCertificate: expected gateway.tls.clientCaPath",
                      done.stderr)


if __name__ == "__main__":
    harness.main()
