"""Hostile traffic against trustgate-gateway (issue 9): every shape gets a defined answer
(an HTTP status, a WebSocket close code, or a close by the header timeout), normal
clients keep being served, and the server's resident memory stays bounded.

Uses the integration tests' harness (tests/integration/harness.py): the gateway runs on
a free loopback port and dies with the test.
"""

import json
import os
import resource
import select
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402

ARGS = harness.arguments()

HEADER_TIMEOUT = 10.0      # server_options::header_timeout, the adapter's default
MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 1024 * 1024
# Growth of the gateway's resident memory that a scenario may leave behind. Allocators
# keep some freed memory; a leak or an unbounded buffer shows as hundreds of megabytes.
RSS_SLACK_KB = 48 * 1024

CONFIG = {
    "gateway": {
        "port": 0,
        "trustedProxies": ["127.0.0.1", "::1"],
        "auth": {
            "token": "hostile-test-token",
            "exposeReasons": True,
            "trustedProxy": {"allowLoopback": True, "loopbackUser": "operator@localhost"},
        },
        # The slowloris flood below holds 300 connections from one address.
        "http": {"maxConnections": 1000, "maxConnectionsPerPeer": 1000},
    }
}

# A client address that is not a trusted proxy (the gateway trusts 127.0.0.1 and ::1).
UNTRUSTED = "127.0.0.2"

# The floods below hold over a thousand sockets in this process and in the gateway.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(_hard, 8192), _hard))


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def connect(port, source=None):
    return socket.create_connection(("127.0.0.1", port), 5, source_address=(source, 0) if source else None)


def exchange(port, data, wait=3.0, source=None):
    """Sends `data` and collects what comes back until the server closes or `wait`
    seconds pass without a byte. Returns (bytes, closed_by_server)."""
    with connect(port, source) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while we were still sending
        s.settimeout(wait)
        received = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return received, False
            except ConnectionResetError:
                return received, True
            if not chunk:
                return received, True
            received += chunk


def statuses(raw):
    """Status codes of the HTTP responses in `raw`, in order."""
    found = []
    while raw.startswith(b"HTTP/"):
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        found.append(int(lines[0].split()[1]))
        length = next((int(l.split(b":", 1)[1]) for l in lines[1:] if l.lower().startswith(b"content-length:")), 0)
        raw = rest[length:]
    return found


def request_bytes(path="/whoami", headers=(), method="GET", body=b"", version="HTTP/1.1"):
    lines = [f"{method} {path} {version}", "Host: localhost"] + [f"{n}: {v}" for n, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --- WebSocket frames, built by hand so that they can break the rules ---------------------


def frame(opcode, payload, fin=True, masked=True, rsv=0, declared_length=None):
    n = len(payload) if declared_length is None else declared_length
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    if n < 126:
        header = struct.pack("!BB", first, (0x80 if masked else 0) | n)
    elif n < 65536:
        header = struct.pack("!BBH", first, (0x80 if masked else 0) | 126, n)
    else:
        header = struct.pack("!BBQ", first, (0x80 if masked else 0) | 127, n)
    if not masked:
        return header + payload
    mask = os.urandom(4)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class HostileTraffic(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = harness.work_dir()
        cls.gw = harness.Gateway(ARGS.gateway, CONFIG, cls.dir)
        cls.port = cls.gw.port
        for _ in range(20):  # warm up: threads, allocator arenas, the audit log
            cls.whoami()
        cls.baseline_kb = rss_kb(cls.gw.proc.pid)
        print(f"\ngateway RSS at start: {cls.baseline_kb} kB", flush=True)

    @classmethod
    def tearDownClass(cls):
        end_kb = rss_kb(cls.gw.proc.pid)
        print(f"gateway RSS at end: {end_kb} kB (start {cls.baseline_kb} kB)", flush=True)
        assert end_kb - cls.baseline_kb < RSS_SLACK_KB, f"RSS grew from {cls.baseline_kb} kB to {end_kb} kB"
        assert cls.gw.proc.poll() is None, "the gateway died"

    @classmethod
    def whoami(cls, timeout=5):
        return harness.request("GET", "127.0.0.1", cls.port, "/whoami", headers=[("Host", "localhost")], timeout=timeout)

    def setUp(self):
        self.before_kb = rss_kb(self.gw.proc.pid)

    def tearDown(self):
        after_kb = rss_kb(self.gw.proc.pid)
        print(f"  RSS {self.before_kb} -> {after_kb} kB", flush=True)
        self.assertLess(after_kb - self.baseline_kb, RSS_SLACK_KB, "resident memory grew past the bound")
        self.assertEqual(self.whoami().status, 200, "a normal client is no longer served")

    def assert_answer(self, data, status, closed=True):
        raw, was_closed = exchange(self.port, data)
        self.assertEqual(statuses(raw), [status], raw[:300])
        if closed:
            self.assertTrue(was_closed, "the server kept the connection open after refusing the request")
        return raw

    # --- slow clients ------------------------------------------------------------------

    def test_slowloris_flood_closed_by_header_timeout(self):
        """300 connections each dripping a header a byte every 0.5 s are closed by the
        header timeout without an answer, while normal clients are served throughout."""
        count, drip = 300, b"GET /whoami HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 100
        started = time.monotonic()
        socks = {}
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", self.port), 5)
            s.setblocking(False)
            socks[s] = 0
        closed_after = {}
        served, slowest = 0, 0.0
        peak_kb = 0
        next_tick = time.monotonic()
        try:
            while socks and time.monotonic() - started < HEADER_TIMEOUT + 10:
                now = time.monotonic()
                if now >= next_tick:
                    next_tick = now + 0.5
                    for s in list(socks):
                        try:
                            s.send(drip[socks[s] % len(drip):][:1])
                            socks[s] += 1
                        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                            pass
                    t0 = time.monotonic()
                    self.assertEqual(self.whoami(timeout=3).status, 200)
                    served += 1
                    slowest = max(slowest, time.monotonic() - t0)
                    peak_kb = max(peak_kb, rss_kb(self.gw.proc.pid))
                readable, _, _ = select.select(list(socks), [], [], 0.05)
                for s in readable:
                    try:
                        data = s.recv(4096)
                    except ConnectionResetError:
                        data = b""
                    self.assertEqual(data, b"", "a slow client got an answer instead of a close")
                    closed_after[s] = time.monotonic() - started
                    del socks[s]
                    s.close()
        finally:
            for s in socks:
                s.close()
        print(f"  {count} slow connections closed after {min(closed_after.values()):.1f}-"
              f"{max(closed_after.values()):.1f} s; {served} normal requests served meanwhile "
              f"(slowest {slowest * 1000:.0f} ms); peak RSS {peak_kb} kB", flush=True)
        self.assertFalse(socks, f"{len(socks)} slow connections still open after {HEADER_TIMEOUT + 10} s")
        self.assertGreater(min(closed_after.values()), HEADER_TIMEOUT - 1)
        self.assertLess(max(closed_after.values()), HEADER_TIMEOUT + 4)
        self.assertGreaterEqual(served, int(HEADER_TIMEOUT * 2) - 2)

    def test_connection_cap_answers_503(self):
        """Beyond gateway.http.maxConnections a connection gets 503 and is closed."""
        config = {"gateway": dict(CONFIG["gateway"], http={"maxConnections": 20})}
        capped = harness.Gateway(ARGS.gateway, config, self.dir)
        held = [socket.create_connection(("127.0.0.1", capped.port), 5) for _ in range(20)]
        try:
            time.sleep(0.3)
            raw, closed = exchange(capped.port, request_bytes())
            self.assertEqual(statuses(raw), [503], raw[:300])
            self.assertTrue(closed)
        finally:
            for s in held:
                s.close()
        time.sleep(0.3)
        self.assertEqual(harness.request("GET", "127.0.0.1", capped.port, "/healthz").status, 200)
        capped.stop()

    # --- pre-authentication exhaustion (issue 19) ------------------------------------------

    def test_untrusted_flood_cannot_lock_out_a_trusted_client(self):
        """1024 connections from one untrusted address, idle or each sending a request it
        is refused, leave a trusted local client served: refusals close (no keep-alive),
        and one address holds at most maxConnectionsPerPeer (64) places."""
        config = {"gateway": dict(CONFIG["gateway"], http={"maxConnections": 1024})}
        gw = harness.Gateway(ARGS.gateway, config, self.dir)
        held, refused_503, closed_after_401 = [], 0, 0
        try:
            for i in range(1024):
                s = connect(gw.port, UNTRUSTED)
                if i % 2:
                    s.sendall(request_bytes())
                held.append(s)
            time.sleep(0.5)
            for s in held:
                s.settimeout(2)
                try:
                    raw = s.recv(65536)
                    while raw and b"\r\n\r\n" not in raw:
                        raw += s.recv(65536)
                except (socket.timeout, ConnectionResetError):
                    continue
                got = statuses(raw)
                if got == [503]:
                    refused_503 += 1
                elif got == [401]:
                    try:
                        closed_after_401 += s.recv(1) == b""
                    except ConnectionResetError:
                        closed_after_401 += 1
            for _ in range(5):
                res = harness.request("GET", "127.0.0.1", gw.port, "/whoami", headers=[("Host", "localhost")], timeout=3)
                self.assertEqual(res.status, 200, "the trusted client is locked out")
        finally:
            for s in held:
                s.close()
            gw.stop()
        print(f"  1024 untrusted connections: {refused_503} got 503, {closed_after_401} closed after their 401", flush=True)
        self.assertGreater(refused_503, 0)
        self.assertGreater(closed_after_401, 0)

    def test_untrusted_bodies_are_never_read(self):
        """300 untrusted clients each declaring and sending a 1 MiB body get 401 from the
        header alone; the gateway neither waits for nor buffers the bodies."""
        body = b"x" * MAX_BODY_BYTES
        header = request_bytes("/rpc/health", [("Content-Length", str(len(body)))], "POST")
        before = rss_kb(self.gw.proc.pid)
        peak = before
        socks = []
        try:
            for i in range(300):
                s = connect(self.port, UNTRUSTED)
                s.sendall(header)
                s.setblocking(False)
                try:
                    s.send(body)
                except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                    pass
                socks.append(s)
                if i % 50 == 49:
                    peak = max(peak, rss_kb(self.gw.proc.pid))
            answered = 0
            for s in socks:
                s.setblocking(True)
                s.settimeout(3)
                try:
                    raw = s.recv(4096)
                except (socket.timeout, ConnectionResetError):
                    continue
                answered += statuses(raw) == [401]
            peak = max(peak, rss_kb(self.gw.proc.pid))
        finally:
            for s in socks:
                s.close()
        print(f"  300 x 1 MiB untrusted bodies: {answered} answered 401; RSS {before} -> peak {peak} kB", flush=True)
        self.assertGreaterEqual(answered, 290)
        self.assertLess(peak - before, 16 * 1024, "the gateway buffered refused bodies")

    def test_header_deadline_counts_from_accept(self):
        """A client that starts late and then sends one header byte every 0.5 s is closed
        10 s after it connected: no byte extends the deadline."""
        s = connect(self.port)
        started = time.monotonic()
        try:
            time.sleep(HEADER_TIMEOUT - 3)
            drip = request_bytes()[:-4] + b"X-Slow: " + b"a" * 64
            closed_at = None
            for byte in drip:
                try:
                    s.sendall(bytes([byte]))
                except (BrokenPipeError, ConnectionResetError):
                    closed_at = time.monotonic()
                    break
                readable, _, _ = select.select([s], [], [], 0.5)
                if readable:
                    try:
                        data = s.recv(4096)
                    except ConnectionResetError:
                        data = b""
                    self.assertEqual(data, b"", "a slow client got an answer instead of a close")
                    closed_at = time.monotonic()
                    break
        finally:
            s.close()
        self.assertIsNotNone(closed_at, "the trickling client was never closed")
        print(f"  trickling client closed {closed_at - started:.1f} s after connecting", flush=True)
        self.assertLess(closed_at - started, HEADER_TIMEOUT + 1.5)

    # --- header section only (issue 19) --------------------------------------------------

    def test_trailer_fields_are_refused(self):
        """A chunked body's trailer fields could name the user (Beast merges them into the
        headers): any trailer is a 400, and the body's handler never runs."""
        body = b"2\r\n{}\r\n0\r\nX-Forwarded-User: mallory\r\n\r\n"
        raw = self.assert_answer(request_bytes("/rpc/health", [("Transfer-Encoding", "chunked")], "POST", body), 400)
        self.assertNotIn(b"mallory", raw)
        ok = request_bytes("/rpc/health", [("Transfer-Encoding", "chunked"), ("Connection", "close")], "POST",
                           b"2\r\n{}\r\n0\r\n\r\n")
        self.assert_answer(ok, 200)

    def test_duplicate_keys_are_refused(self):
        raw = self.assert_answer(request_bytes("/rpc/health", [("Content-Length", "25"), ("Connection", "close")], "POST",
                                               b'{"a":1,"b":{"c":1,"c":2}}'), 400)
        self.assertIn(b"each key once", raw)
        ws = self.websocket()
        try:
            ws.send_text('{"id":1,"method":"config.set","method":"health"}')
            opcode, payload = ws.receive()
            self.assertEqual(json.loads(payload)["error"]["code"], "INVALID_REQUEST", payload)
            self.assertTrue(ws.call({"id": 2, "method": "health"})["ok"])
        finally:
            ws.close()

    def test_frames_in_the_upgrade_read_are_answered(self):
        s = connect(self.port)
        try:
            s.sendall(b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" +
                      frame(0x1, b'{"id":9,"method":"health"}'))
            s.settimeout(5)
            got = b""
            while b'"id":9' not in got:
                chunk = s.recv(4096)
                self.assertTrue(chunk, f"closed before the early frame was answered: {got!r}")
                got += chunk
            self.assertTrue(got.startswith(b"HTTP/1.1 101"))
        finally:
            s.close()

    def test_over_capacity_503_carries_hsts(self):
        config = {"gateway": dict(CONFIG["gateway"], http={"maxConnections": 2, "securityHeaders": {
            "strictTransportSecurity": "max-age=31536000"}})}
        capped = harness.Gateway(ARGS.gateway, config, self.dir)
        held = [connect(capped.port) for _ in range(2)]
        try:
            time.sleep(0.3)
            raw, _ = exchange(capped.port, request_bytes())
            self.assertEqual(statuses(raw), [503], raw[:300])
            self.assertIn(b"Strict-Transport-Security: max-age=31536000", raw)
        finally:
            for s in held:
                s.close()
            capped.stop()

    # --- sizes -------------------------------------------------------------------------

    def test_oversize_header_431(self):
        self.assert_answer(request_bytes(headers=[("X-Big", "a" * (MAX_HEADER_BYTES + 1))]), 431)
        # Beast 1.74 applies the limit to what is unparsed: fields complete in the first
        # read (4 KiB) are parsed before the rest arrives, so twice the limit to be sure.
        many = [(f"X-H{i}", "b" * 100) for i in range(2 * MAX_HEADER_BYTES // 100)]
        self.assert_answer(request_bytes(headers=many), 431)
        self.assert_answer(request_bytes(path="/" + "c" * (MAX_HEADER_BYTES + 1)), 431)
        # An endless header: answered once the limit is reached, not when the client stops.
        self.assert_answer(b"GET / HTTP/1.1\r\nX-Endless: " + b"d" * (4 * MAX_HEADER_BYTES), 431)

    def test_oversize_body_413(self):
        # Declared too long: refused from the header, before any body byte is read.
        self.assert_answer(request_bytes("/rpc/health", [("Content-Length", str(MAX_BODY_BYTES + 1))], "POST"), 413)
        # Chunked, too long in total.
        piece = b"%x\r\n%s\r\n" % (256 * 1024, b"e" * 256 * 1024)
        self.assert_answer(request_bytes("/rpc/health", [("Transfer-Encoding", "chunked")], "POST", piece * 5 + b"0\r\n\r\n"),
                           413)
        # A chunk extension or trailer that never ends: the read buffer is bounded.
        ext = request_bytes("/rpc/health", [("Transfer-Encoding", "chunked")], "POST", b"1;" + b"x" * (8 * MAX_HEADER_BYTES))
        self.assert_answer(ext, 413)
        trailer = request_bytes("/rpc/health", [("Transfer-Encoding", "chunked")], "POST",
                                b"0\r\nX-Trailer: " + b"y" * (8 * MAX_HEADER_BYTES))
        self.assert_answer(trailer, 413)

    # --- malformed requests --------------------------------------------------------------

    def test_malformed_request_lines_400(self):
        for data in [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1 extra\r\n\r\n", b"GET /whoami HTTP/9.9\r\n\r\n",
                     b"GET\r\n\r\n", b"GET /whoami\r\n\r\n", b" GET / HTTP/1.1\r\n\r\n", b"GET  / HTTP/1.1\r\n\r\n",
                     b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 32]:
            with self.subTest(data=data):
                self.assert_answer(data, 400)

    def test_bare_lf_400(self):
        self.assert_answer(b"GET /whoami HTTP/1.1\nHost: localhost\n\n", 400)
        self.assert_answer(b"GET /whoami HTTP/1.1\r\nHost: localhost\nX-A: b\r\n\r\n", 400)
        self.assert_answer(b"GET /whoami HTTP/1.1\r\nHost: localhost\r\nX-A: b\rX-B: c\r\n\r\n", 400)

    def test_nul_bytes_400(self):
        self.assert_answer(b"GET /who\x00ami HTTP/1.1\r\nHost: localhost\r\n\r\n", 400)
        self.assert_answer(b"GET /whoami HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-User: ali\x00ce\r\n\r\n", 400)
        self.assert_answer(b"GET /whoami HTTP/1.1\r\nHost: localhost\r\nX-Forwarded\x00-User: alice\r\n\r\n", 400)
        self.assert_answer(b"GET /whoami HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-User : alice\r\n\r\n", 400)

    def test_obs_fold_is_one_value(self):
        """RFC 9112 §5.2: an obs-fold becomes a space inside the one header it continues;
        it never starts a header of its own."""
        folded = request_bytes(headers=[("X-Forwarded-User", "alice\r\n bob"), ("X-Forwarded-For", "198.51.100.7"),
                                        ("Connection", "close")])
        raw = self.assert_answer(folded, 200)
        self.assertIn(b'"user":"alice bob"', raw)
        sneaked = request_bytes(headers=[("X-Note", "x\r\n\tX-Forwarded-User: mallory"), ("Connection", "close")])
        raw = self.assert_answer(sneaked, 200)
        self.assertIn(b'"user":"operator@localhost"', raw)
        self.assertNotIn(b"mallory", raw.split(b"\r\n\r\n", 1)[1])

    # --- request smuggling shapes ---------------------------------------------------------

    def test_smuggling_shapes_refused(self):
        """Each framing conflict is refused with 400 and the connection closed, so the
        "smuggled" request after it is never answered."""
        smuggled = request_bytes(headers=[("X-Forwarded-User", "admin"), ("X-Forwarded-For", "203.0.113.1")])
        for headers, body in [
            ([("Content-Length", "5"), ("Transfer-Encoding", "chunked")], b"0\r\n\r\n"),
            ([("Transfer-Encoding", "chunked"), ("Content-Length", "5")], b"0\r\n\r\n"),
            ([("Content-Length", "2"), ("Content-Length", "3")], b"{}"),
            ([("Content-Length", "2, 3")], b"{}"),
            ([("Content-Length", "-2")], b"{}"),
            ([("Content-Length", "+2")], b"{}"),
            ([("Content-Length", "0x2")], b"{}"),
            ([("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")], b"0\r\n\r\n"),
            ([("Transfer-Encoding", "gzip")], b"{}"),
            ([("Transfer-Encoding", "xchunked")], b"0\r\n\r\n"),
            ([("Transfer-Encoding", "chunked, gzip")], b"0\r\n\r\n"),
            ([("Transfer-Encoding", "chunked")], b"fffffffffffffffff\r\n"),
            ([("Transfer-Encoding", "chunked")], b"2\r\n{}XX0\r\n\r\n"),
        ]:
            with self.subTest(headers=headers):
                self.assert_answer(request_bytes("/rpc/health", headers, "POST", body) + smuggled, 400)
        # Whitespace before the colon would make some proxies ignore the header.
        self.assert_answer(b"POST /rpc/health HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400)

    def test_consistent_framing_is_served_once(self):
        """Framing that is redundant but consistent is accepted (RFC 9112 §6.3) and reads
        exactly the declared body: what follows is the next request, as sent."""
        for headers in ([("Content-Length", "2"), ("Content-Length", "2")], [("Content-Length", "2, 2")]):
            with self.subTest(headers=headers):
                raw, _ = exchange(self.port, request_bytes("/rpc/health", headers, "POST", b"{}") +
                                  request_bytes(headers=[("Connection", "close")]))
                self.assertEqual(statuses(raw), [200, 200], raw[:400])
        # HTTP/1.0 with chunked framing: answered, then the connection is closed.
        raw, closed = exchange(self.port, request_bytes("/rpc/health", [("Transfer-Encoding", "chunked")], "POST",
                                                        b"2\r\n{}\r\n0\r\n\r\n", version="HTTP/1.0") + request_bytes())
        self.assertEqual(statuses(raw), [200], raw[:400])
        self.assertTrue(closed)

    # --- WebSocket -----------------------------------------------------------------------

    def websocket(self):
        ws = harness.WebSocket("127.0.0.1", self.port, headers=[])
        self.assertEqual(ws.status, 101, ws.body)
        return ws

    def assert_close(self, frames, code):
        ws = self.websocket()
        try:
            for f in frames:
                try:
                    ws.sock.sendall(f)
                except (BrokenPipeError, ConnectionResetError):
                    break
            self.assertEqual(ws.close_code(), code)
            try:
                ws.sock.sendall(frame(0x8, struct.pack("!H", code)))  # complete the closing handshake
            except (BrokenPipeError, ConnectionResetError):
                pass  # a failed connection is dropped without one
            ws.sock.settimeout(5)
            self.assertEqual(ws.sock.recv(1), b"", "the server did not close the TCP connection after the close frame")
        finally:
            ws.sock.close()

    def test_websocket_oversized_1009(self):
        big = MAX_BODY_BYTES + 1
        # Declared too long: closed from the frame header.
        self.assert_close([frame(0x1, b"x" * 1024, declared_length=big)[:14]], 1009)
        # Fragments that add up to too much.
        part = b"y" * (256 * 1024)
        self.assert_close([frame(0x1, part, fin=False)] + [frame(0x0, part, fin=False)] * 4 + [frame(0x0, b"}")], 1009)

    def test_websocket_fragmented_message_is_answered(self):
        ws = self.websocket()
        try:
            text = b'{"id":7,"method":"health","params":{"pad":"' + b"z" * 5000 + b'"}}'
            pieces = [text[:10], text[10:3000], text[3000:]]
            ws.sock.sendall(frame(0x1, pieces[0], fin=False) + frame(0x9, b"ping") + frame(0x0, pieces[1], fin=False) +
                            frame(0x0, pieces[2]))
            self.assertEqual(ws.receive(), (0xA, b"ping"))  # the ping between fragments is answered at once
            opcode, payload = ws.receive()
            self.assertEqual(opcode, 0x1)
            self.assertIn(b'"id":7', payload)
            self.assertIn(b'"ok":true', payload)
        finally:
            ws.close()

    def test_websocket_protocol_violations_1002(self):
        for name, frames in [
            ("unmasked", [frame(0x1, b'{"id":1,"method":"health"}', masked=False)]),
            ("continuation first", [frame(0x0, b"x")]),
            ("new message inside a fragmented one", [frame(0x1, b"a", fin=False), frame(0x1, b"b")]),
            ("control frame too long", [frame(0x9, b"p" * 126)]),
            ("fragmented control frame", [frame(0x9, b"p", fin=False)]),
            ("reserved bits", [frame(0x1, b"{}", rsv=0b100)]),
            ("reserved opcode", [frame(0x3, b"{}")]),
            ("close with a reserved code", [frame(0x8, struct.pack("!H", 999))]),
        ]:
            with self.subTest(name):
                self.assert_close(frames, 1002)

    def test_websocket_bad_payloads(self):
        self.assert_close([frame(0x1, b"\xff\xfe not utf-8")], 1007)
        self.assert_close([frame(0x2, b"\x00\x01binary")], 1003)


if __name__ == "__main__":
    harness.main()
