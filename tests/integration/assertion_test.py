#!/usr/bin/env python3
"""behaviour §10 end to end: trustgate-gateway verifying signed assertions, with keys and
tokens made here by python3-cryptography and python3-jwt, and the JWKS served over HTTPS
on loopback with a certificate this test makes. Key rotation mid-run, a key server that
hangs, one that answers garbage, and the last good set kept when a refresh fails.
Runs with Debian's /usr/bin/python3 (python3-cryptography, python3-jwt)."""

import base64
import datetime
import http.client
import http.server
import ipaddress
import json
import os
import ssl
import threading
import time
import unittest

import harness

try:
    import jwt
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID
except ImportError:
    harness.skip("needs python3-cryptography and python3-jwt (scripts/deps.sh installs them)")

ARGS = harness.arguments()
ISSUER = "https://authenticate.example.com"
AUDIENCE = "gateway.example.com"


def b64(n, size):
    return base64.urlsafe_b64encode(n.to_bytes(size, "big")).rstrip(b"=").decode()


def ec_jwk(key, kid):
    numbers = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64(numbers.x, 32), "y": b64(numbers.y, 32), "kid": kid, "use": "sig"}


def rsa_jwk(key, kid):
    numbers = key.public_key().public_numbers()
    n_size = (numbers.n.bit_length() + 7) // 8
    return {"kty": "RSA", "n": b64(numbers.n, n_size), "e": b64(numbers.e, 3), "kid": kid}


def token(key, kid, alg="ES256", **claims):
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "exp": now + 600, "iat": now, "email": "alice@example.com"}
    body.update(claims)
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


def make_certificate(directory):
    """A CA and a server certificate for 127.0.0.1 signed by it; returns (ca, cert, key) paths."""
    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("trustgate test CA")).issuer_name(name("trustgate test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = [os.path.join(directory, n) for n in ("ca.pem", "server.pem", "server.key")]
    harness.write_file(paths[0], ca.public_bytes(serialization.Encoding.PEM).decode())
    harness.write_file(paths[1], cert.public_bytes(serialization.Encoding.PEM).decode())
    harness.write_file(paths[2], key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()).decode(), 0o600)
    return paths


class KeyServer:
    """A JWKS over HTTPS on 127.0.0.1 whose answer the test changes: a document, garbage,
    or a hang (the connection is held without an answer)."""

    def __init__(self, cert, key):
        self.body = json.dumps({"keys": []})
        self.mode = "serve"
        self.requests = 0
        self.release = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests += 1
                if server.mode == "hang":
                    server.release.wait(30)
                    return
                body = (server.body if server.mode == "serve" else "<html>garbage</html>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}/.well-known/pomerium/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        harness.at_exit(self.close)

    def publish(self, *keys):
        self.mode = "serve"
        self.body = json.dumps({"keys": list(keys)})

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def config(url, refresh=3600):
    return {"gateway": {"port": 0, "trustedProxies": ["127.0.0.1"],
                        "auth": {"exposeReasons": True,
                                 "trustedProxy": {"userHeader": "x-pomerium-claim-email", "allowLoopback": True,
                                                  "allowUsers": ["alice@example.com"],
                                                  "assertion": {"preset": "pomerium", "jwksUrl": url, "issuer": ISSUER,
                                                                "audience": [AUDIENCE], "refreshSeconds": refresh}}}}}


def whoami(gw, assertion, **headers):
    conn = http.client.HTTPConnection(gw.host, gw.port, timeout=10)
    conn.request("GET", "/whoami", headers={"X-Forwarded-For": "203.0.113.9", "X-Pomerium-Jwt-Assertion": assertion, **headers})
    res = conn.getresponse()
    body = json.loads(res.read() or b"{}")
    conn.close()
    return res.status, body.get("user") or body.get("error", {}).get("reason")


class AssertionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = harness.work_dir()
        ca, cert, key = make_certificate(cls.dir)
        os.environ["SSL_CERT_FILE"] = ca  # the gateway's default trust store, for this test only
        cls.server = KeyServer(cert, key)
        cls.k1 = ec.generate_private_key(ec.SECP256R1())
        cls.k2 = ec.generate_private_key(ec.SECP256R1())

    def test_rotation_mid_run_and_last_good_set(self):
        self.server.publish(ec_jwk(self.k1, "k1"))
        gw = harness.Gateway(ARGS.gateway, config(self.server.url, refresh=1), self.dir)
        gw.wait_for(lambda l: l.get("event") == "jwks_refresh")
        self.assertEqual(whoami(gw, token(self.k1, "k1")), (200, "alice@example.com"))
        # Both keys during the overlap, then only the new one.
        self.server.publish(ec_jwk(self.k1, "k1"), ec_jwk(self.k2, "k2"))
        gw.wait_for(lambda l: "2 keys" in l.get("message", ""), timeout=5)
        self.assertEqual(whoami(gw, token(self.k2, "k2")), (200, "alice@example.com"))
        self.assertEqual(whoami(gw, token(self.k1, "k1")), (200, "alice@example.com"))
        self.server.publish(ec_jwk(self.k2, "k2"))
        time.sleep(2.5)
        self.assertEqual(whoami(gw, token(self.k1, "k1")), (401, "trusted_proxy_assertion_unknown_key"))
        self.assertEqual(whoami(gw, token(self.k2, "k2")), (200, "alice@example.com"))
        # The key server breaks: the last good set stays, and the failure is logged.
        self.server.mode = "garbage"
        gw.wait_for(lambda l: l.get("event") == "jwks_refresh_failed", timeout=5)
        self.assertEqual(whoami(gw, token(self.k2, "k2")), (200, "alice@example.com"))
        self.server.publish(ec_jwk(self.k2, "k2"))
        gw.stop()

    def test_unknown_kid_refetches_at_once(self):
        self.server.publish(ec_jwk(self.k1, "k1"))
        gw = harness.Gateway(ARGS.gateway, config(self.server.url), self.dir)
        k3 = ec.generate_private_key(ec.SECP256R1())
        self.server.publish(ec_jwk(self.k1, "k1"), ec_jwk(k3, "k3"))
        # The first request does not wait for the refetch it caused; a later one succeeds.
        self.assertEqual(whoami(gw, token(k3, "k3")), (401, "trusted_proxy_assertion_unknown_key"))
        gw.wait_for(lambda l: "2 keys" in l.get("message", ""), timeout=5)
        self.assertEqual(whoami(gw, token(k3, "k3")), (200, "alice@example.com"))
        gw.stop()

    def test_attacks_and_edges_through_the_gateway(self):
        self.server.publish(ec_jwk(self.k1, "k1"))
        gw = harness.Gateway(ARGS.gateway, config(self.server.url), self.dir)
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "exp": now + 600, "email": "alice@example.com"}
        header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        cases = [
            (f"{header}.{body}.", "trusted_proxy_assertion_invalid"),                       # alg none
            (hs256_with(pem, claims), "trusted_proxy_assertion_invalid"),                    # key confusion
            (token(self.k1, "k1", iss="https://evil.example.com"), "trusted_proxy_assertion_issuer"),
            (token(self.k1, "k1", aud=["other-app"]), "trusted_proxy_assertion_audience"),  # another Access app
            (token(self.k1, "k1", exp=now - 61), "trusted_proxy_assertion_expired"),
            (token(self.k1, "k1", email="mallory@example.com"), "trusted_proxy_user_not_allowed"),
        ]
        for assertion, reason in cases:
            status, got = whoami(gw, assertion)
            self.assertEqual((status, got), (403 if reason.endswith("not_allowed") else 401, reason), assertion)
        self.assertEqual(whoami(gw, token(self.k1, "k1", aud=["other-app", AUDIENCE])), (200, "alice@example.com"))
        self.assertEqual(whoami(gw, token(self.k1, "k1", exp=now - 55)), (200, "alice@example.com"))
        self.assertEqual(whoami(gw, token(self.k1, "k1"), **{"X-Pomerium-Claim-Email": "bob@example.com"}),
                         (401, "trusted_proxy_user_mismatch"))
        denied = [l for l in gw.decisions() if l["reason"] == "trusted_proxy_assertion_invalid"]
        self.assertEqual(denied[0]["policy"], "proxy_assertion")
        # The first refusal is `alg: none`, whose empty signature already fails the shape check.
        self.assertEqual(denied[0]["detail"], "not three base64url parts")
        self.assertNotIn(token(self.k1, "k1").split(".")[2], gw.log_text())  # no token in the log
        gw.stop()

    def test_startup_fails_on_a_hanging_or_garbage_key_server(self):
        for mode in ("hang", "garbage"):
            self.server.mode = mode
            started = time.monotonic()
            result = harness.run_gateway_once(ARGS.gateway, "--check-config", config=config(self.server.url), directory=self.dir)
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn("config error: gateway.auth.trustedProxy.assertion.jwksUrl: expected a JWKS", result.stderr)
            self.assertLess(time.monotonic() - started, 9, mode)
        self.server.release.set()
        self.server.release = threading.Event()
        self.server.publish(ec_jwk(self.k1, "k1"))


def hs256_with(secret, claims):
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","kid":"k1"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    import hmac, hashlib
    signature = base64.urlsafe_b64encode(hmac.new(secret, header + b"." + body, hashlib.sha256).digest()).rstrip(b"=")
    return (header + b"." + body + b"." + signature).decode()


if __name__ == "__main__":
    unittest.main(verbosity=2)
