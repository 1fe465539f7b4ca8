#!/usr/bin/env python3
"""Destination servers for the egress routing test.

Every listener answers GET with "hello from ADDRESS:PORT PATH", echoes one WebSocket text
message back on an Upgrade request, and appends "ADDRESS:PORT" to the log file for each
connection it accepts, so the test can prove a destination was, or was never, reached.

  test_host.py LOG [--http ADDR:PORT]... [--https ADDR:PORT --cert PEM --key PEM]...
"""
import argparse
import base64
import hashlib
import http.server
import ssl
import struct
import threading

WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_exact(stream, n):
    data = stream.read(n)
    if data is None or len(data) != n:
        raise ConnectionError("short read")
    return data


def echo_one_websocket_message(handler):
    key = handler.headers.get("Sec-WebSocket-Key", "").encode()
    accept = base64.b64encode(hashlib.sha1(key + WEBSOCKET_GUID).digest()).decode()
    handler.send_response(101)
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", accept)
    handler.end_headers()
    handler.wfile.flush()
    first, second = read_exact(handler.rfile, 2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", read_exact(handler.rfile, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", read_exact(handler.rfile, 8))[0]
    mask = read_exact(handler.rfile, 4) if second & 0x80 else b"\0\0\0\0"
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(read_exact(handler.rfile, length)))
    header = bytes([0x80 | (first & 0x0F)])
    header += bytes([len(payload)]) if len(payload) < 126 else bytes([126]) + struct.pack("!H", len(payload))
    handler.wfile.write(header + payload)
    handler.wfile.write(b"\x88\x02\x03\xe8")  # close, 1000
    handler.wfile.flush()
    handler.close_connection = True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.headers.get("Upgrade", "").lower() == "websocket":
            echo_one_websocket_message(self)
            return
        body = f"hello from {self.server.name} {self.path}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name, log, tls):
        host, port = name.rsplit(":", 1)
        self.name, self.log, self.tls = name, log, tls
        super().__init__((host, int(port)), Handler)

    def get_request(self):
        sock, peer = super().get_request()
        with open(self.log, "a") as f:
            f.write(self.name + "\n")
        if self.tls:
            sock = self.tls.wrap_socket(sock, server_side=True)
        return sock, peer

    def handle_error(self, request, client_address):
        pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("log")
    p.add_argument("--http", action="append", default=[])
    p.add_argument("--https", action="append", default=[])
    p.add_argument("--cert")
    p.add_argument("--key")
    args = p.parse_args()
    tls = None
    if args.https:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)
    servers = [Server(n, args.log, None) for n in args.http] + [Server(n, args.log, tls) for n in args.https]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()  # serves until the test kills us


if __name__ == "__main__":
    main()
