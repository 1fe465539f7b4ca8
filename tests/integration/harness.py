"""Shared machinery for trustgate's integration tests (Python 3 standard library only).

Every process a test starts dies with the test: children get PR_SET_PDEATHSIG, are
stopped at exit, and SIGTERM/SIGINT/SIGHUP to the test run the same clean-up. Servers
listen on free ports on loopback or in network namespaces the tests create themselves.
A test whose tools or privileges are missing exits with SKIP (77), which ctest reports
as skipped.
"""

import argparse
import atexit
import base64
import ctypes
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

SKIP = 77

_children = []
_cleanups = []


def skip(reason):
    print(f"SKIP: {reason}", flush=True)
    sys.exit(SKIP)


def require_tools(*names):
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        skip("needs " + ", ".join(missing) + " (scripts/deps.sh installs them)")


def require_root(why):
    if os.geteuid() != 0:
        skip(f"needs root for {why}")


def at_exit(action):
    """Runs `action` when the test ends, however it ends (last registered, first run)."""
    _cleanups.append(action)


def _clean_up():
    while _cleanups:
        action = _cleanups.pop()
        try:
            action()
        except Exception as e:  # keep cleaning up; report what failed
            print(f"clean-up failed: {e}", file=sys.stderr)
    for proc in _children:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _exit_on_signal(signum, _frame):
    sys.exit(128 + signum)  # raises SystemExit: finally blocks and atexit run


atexit.register(_clean_up)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _exit_on_signal)

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(argv, **kwargs):
    """Popen that cannot outlive the test."""
    proc = subprocess.Popen(argv, preexec_fn=_die_with_parent, **kwargs)
    _children.append(proc)
    return proc


def stop(proc, sig=signal.SIGTERM, timeout=10):
    """Sends `sig` and waits; kills after `timeout`. Returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"{proc.args[0]} did not exit within {timeout}s of signal {sig}")
    return proc.returncode


def free_port(host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for_port(host, port, timeout=10, netns=None):
    """Waits until something accepts connections on host:port (in `netns` if given)."""
    deadline = time.monotonic() + timeout
    probe = [sys.executable, "-c", f"import socket; socket.create_connection(({host!r}, {port}), 1).close()"]
    while time.monotonic() < deadline:
        if netns:
            if subprocess.run(["ip", "netns", "exec", netns] + probe, capture_output=True).returncode == 0:
                return
        else:
            try:
                socket.create_connection((host, port), 1).close()
                return
            except OSError:
                pass
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {host}:{port} after {timeout}s")


def work_dir():
    """A temporary directory removed at exit, readable by nginx's unprivileged workers."""
    path = tempfile.mkdtemp(prefix="trustgate-it-")
    os.chmod(path, 0o755)
    at_exit(lambda: shutil.rmtree(path, ignore_errors=True))
    return path


def write_file(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def arguments():
    """--gateway, --minimal and --deploy as ctest passes them; unittest gets the rest."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--minimal")
    parser.add_argument("--deploy")
    args, rest = parser.parse_known_args()
    sys.argv = sys.argv[:1] + rest
    return args


# --- the gateway -----------------------------------------------------------------------


class Gateway:
    """trustgate-gateway on a configuration (a dict written as JSON, or text, or None for
    the embedded default). Its standard error, the audit log, goes to a file: the gateway
    writes a decision's line before it answers, so once a response is in, its line can be
    read back without any race."""

    def __init__(self, binary, config, directory, netns=None):
        argv = [binary]
        serial = len(os.listdir(directory))
        if config is not None:
            path = os.path.join(directory, f"gateway-{serial}.json")
            write_file(path, json.dumps(config, indent=2) if isinstance(config, dict) else config)
            argv += ["--config", path]
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv
        self.log_path = os.path.join(directory, f"gateway-{serial}.log")
        with open(self.log_path, "wb") as log:
            self.proc = spawn(argv, stderr=log, stdout=subprocess.DEVNULL)
        at_exit(self.kill)
        listening = self.wait_for(lambda line: line.get("event") == "listening")
        self.url = listening["url"]
        host, port = self.url.split("://", 1)[1].rsplit(":", 1)
        self.host = host.strip("[]")
        self.port = int(port)

    @property
    def lines(self):
        """Every complete log line so far, parsed (a line that is not JSON becomes
        {"event": "text", "text": ...})."""
        with open(self.log_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        parsed = []
        for raw in text.split("\n")[:-1]:
            try:
                parsed.append(json.loads(raw))
            except ValueError:
                parsed.append({"event": "text", "text": raw})
        return parsed

    def wait_for(self, predicate, timeout=10):
        """The first log line satisfying `predicate`, waiting for it if need be."""
        deadline = time.monotonic() + timeout
        while True:
            exited = self.proc.poll() is not None
            for line in self.lines:
                if predicate(line):
                    return line
            if exited:
                raise AssertionError(f"gateway exited with {self.proc.returncode}; its log: {self.lines}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no such log line after {timeout}s; log: {self.lines}")
            time.sleep(0.02)

    def decisions(self):
        return [line for line in self.lines if line.get("event") == "decision"]

    def observe(self, action):
        """Runs `action` and returns its result with the decision lines it caused."""
        before = len(self.decisions())
        result = action()
        return result, self.decisions()[before:]

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM, timeout=10):
        return stop(self.proc, sig, timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_gateway_once(binary, *args, config=None, directory=None):
    """Runs the gateway to completion (for --check-config and the like)."""
    argv = [binary, *args]
    if config is not None:
        path = os.path.join(directory, f"check-{len(os.listdir(directory))}.json")
        write_file(path, json.dumps(config) if isinstance(config, dict) else config)
        argv += ["--config", path]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


# --- proxies -----------------------------------------------------------------------------


def deploy_config(path, replacements):
    """A file of examples/deploy with test values put in. Every replaced text must be
    present, so a deploy file that drifts from what the tests expect fails them."""
    with open(path) as f:
        text = f.read()
    for old, new in replacements.items():
        assert old in text, f"{path} no longer contains {old!r}"
        text = text.replace(old, new)
    return text


_NGINX_MAIN = """{user}worker_processes 1;
error_log {dir}/nginx-error.log info;
pid {dir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/nginx-access.log;
    client_body_temp_path {dir}/nginx-body;
    proxy_temp_path {dir}/nginx-proxy;
    fastcgi_temp_path {dir}/nginx-fastcgi;
    uwsgi_temp_path {dir}/nginx-uwsgi;
    scgi_temp_path {dir}/nginx-scgi;
    include {site};
}}
"""


def start_nginx(directory, site_text, host, port, netns=None, user=None):
    """nginx in the foreground with `site_text` as its only http-level configuration,
    listening on host:port (inside `netns` if given); started as root, its workers run
    as `user` (nginx's own default, nobody, if None)."""
    directory = tempfile.mkdtemp(prefix="nginx-", dir=directory)
    os.chmod(directory, 0o755)
    site = write_file(os.path.join(directory, "site.conf"), site_text)
    main = write_file(os.path.join(directory, "nginx.conf"),
                      _NGINX_MAIN.format(dir=directory, site=site, user=f"user {user};\n" if user else ""))
    argv = ["nginx", "-e", os.path.join(directory, "nginx-error.log"), "-p", directory, "-c", main, "-g", "daemon off;"]
    if netns:
        argv = ["ip", "netns", "exec", netns] + argv
    proc = spawn(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    at_exit(lambda: stop(proc))
    try:
        wait_for_port(host, port, netns=netns)
    except AssertionError:
        with open(os.path.join(directory, "nginx-error.log")) as log:
            raise AssertionError("nginx did not start: " + log.read())
    return proc


def start_caddy(directory, caddyfile_text, host, port):
    """Caddy in the foreground with `caddyfile_text`, its state and log (caddy.log) in
    `directory`; returns once it listens on host:port."""
    path = write_file(os.path.join(directory, "Caddyfile"), caddyfile_text)
    env = dict(os.environ, HOME=directory, XDG_CONFIG_HOME=directory, XDG_DATA_HOME=directory)
    with open(os.path.join(directory, "caddy.log"), "wb") as log:
        proc = spawn(["caddy", "run", "--config", path, "--adapter", "caddyfile"], env=env, stdout=log, stderr=log)
    at_exit(lambda: stop(proc))
    wait_for_port(host, port)
    return proc


# The people the proxies' password files know; alice is in the tests' allowUsers, bob not.
PASSWORDS = {"alice": "wonderland", "bob": "builder"}


def htpasswd_line(user):
    """bcrypt at a low cost: real deployments use more, but tests check many requests."""
    out = subprocess.run(["htpasswd", "-nbB", "-C", "5", user, PASSWORDS[user]], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def start_nginx_basic_auth(directory, deploy, listen_host, upstream, netns=None):
    """nginx from examples/deploy/nginx-auth-basic.conf on a free port of `listen_host`,
    forwarding to `upstream` (host:port); returns the port."""
    htpasswd = write_file(os.path.join(directory, "htpasswd"), "".join(htpasswd_line(u) + "\n" for u in PASSWORDS))
    port = free_port()  # free on this host's loopback: free in a new namespace too
    site = deploy_config(os.path.join(deploy, "nginx-auth-basic.conf"), {
        "listen 8080;": f"listen {listen_host}:{port};",
        "proxy_pass http://127.0.0.1:18789;": f"proxy_pass http://{upstream};",
        "/etc/nginx/trustgate.htpasswd": htpasswd,
    })
    start_nginx(directory, site, listen_host, port, netns=netns)
    return port


class Namespace:
    """A network namespace joined to this host by a veth pair, on a free /24 of
    198.19.0.0/16 (part of the 198.18.0.0/15 benchmarking range): this side is .1, the
    namespace side holds .2, .3, ... (one per entry of `hosts`). Deleted at exit."""

    PREFIX = "tgit"

    def __init__(self, hosts=2):
        require_root("network namespaces")
        require_tools("ip")
        self._remove_stale()
        pid = os.getpid()
        self.name = f"{self.PREFIX}{pid}"
        used = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True).stdout
        subnet = next(f"198.19.{n}" for n in [(pid + i) % 256 for i in range(256)] if f" 198.19.{n}." not in used)
        self.local = f"{subnet}.1"
        self.hosts = [f"{subnet}.{2 + i}" for i in range(hosts)]
        outside, inside = f"tgh{pid}", f"tgn{pid}"
        created = subprocess.run(["ip", "netns", "add", self.name], capture_output=True, text=True)
        if created.returncode != 0:
            skip("cannot create a network namespace here: " + created.stderr.strip())
        at_exit(lambda: subprocess.run(["ip", "netns", "delete", self.name], capture_output=True))
        commands = [
            ["ip", "link", "add", outside, "type", "veth", "peer", "name", inside],
            ["ip", "link", "set", inside, "netns", self.name],
            ["ip", "addr", "add", f"{self.local}/24", "dev", outside],
            ["ip", "link", "set", outside, "up"],
            ["ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up"],
            ["ip", "netns", "exec", self.name, "ip", "link", "set", inside, "up"],
        ]
        commands += [["ip", "netns", "exec", self.name, "ip", "addr", "add", f"{h}/24", "dev", inside] for h in self.hosts]
        for command in commands:
            subprocess.run(command, check=True, capture_output=True)

    @classmethod
    def _remove_stale(cls):
        """Namespaces left by a test that was killed outright (SIGKILL skips clean-up)."""
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
        for name in listed:
            if name.startswith(cls.PREFIX) and name[len(cls.PREFIX):].isdigit():
                if not os.path.exists(f"/proc/{name[len(cls.PREFIX):]}"):
                    subprocess.run(["ip", "netns", "delete", name], capture_output=True)

    def curl(self, url, headers=(), source=None, user=None):
        """curl from inside the namespace: (status, body)."""
        argv = ["ip", "netns", "exec", self.name, "curl", "-s", "-m", "10", "-o", "-", "-w", "\n%{http_code}"]
        if source:
            argv += ["--interface", source]
        if user:
            argv += ["-u", user]
        for name, value in headers:
            argv += ["-H", f"{name}: {value}"]
        out = subprocess.run(argv + [url], capture_output=True, text=True, check=True).stdout
        body, status = out.rsplit("\n", 1)
        return int(status), body


# --- HTTP ------------------------------------------------------------------------------


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def request(method, host, port, path, headers=(), body=None, source=None, tls_context=None, timeout=10):
    """One HTTP/1.1 request. `headers` is a list of (name, value) pairs sent as given:
    repeated names stay repeated and a Host entry replaces the default one."""
    family_host = host if ":" not in host else f"[{host}]"
    if tls_context is not None:
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=tls_context,
                                           source_address=(source, 0) if source else None)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout, source_address=(source, 0) if source else None)
    try:
        names = {name.lower() for name, _ in headers}
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if "host" not in names:
            conn.putheader("Host", f"{family_host}:{port}")
        data = body.encode() if isinstance(body, str) else body
        for name, value in headers:
            conn.putheader(name, value)
        if data is not None:
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data)
        res = conn.getresponse()
        return Response(res.status, {k.lower(): v for k, v in res.getheaders()}, res.read().decode("utf-8", "replace"))
    finally:
        conn.close()


def basic_auth(user, password):
    return ("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())


def raw_exchange(host, port, data, timeout=5):
    """Sends raw bytes, returns everything the server sends until it closes."""
    with socket.create_connection((host, port), timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


# --- WebSocket (RFC 6455, client side) --------------------------------------------------


class WebSocket:
    """A minimal WebSocket client: text frames, masking, ping/pong, close."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, host, port, path="/ws", headers=(), tls_context=None, timeout=10):
        raw = socket.create_connection((host, port), timeout)
        self.sock = tls_context.wrap_socket(raw, server_hostname=host) if tls_context else raw
        key = base64.b64encode(os.urandom(16)).decode()
        host_header = host if ":" not in host else f"[{host}]"
        lines = [f"GET {path} HTTP/1.1", f"Host: {host_header}:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{name}: {value}" for name, value in headers]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError(f"closed during the upgrade; got {head!r}")
            head += chunk
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                self.headers[name.strip().lower()] = value.strip()
        self.body = ""
        if self.status != 101:
            length = int(self.headers.get("content-length", "0"))
            body = b""
            while len(body) < length:
                chunk = self.sock.recv(length - len(body))
                if not chunk:
                    break
                body += chunk
            self.body = body.decode("utf-8", "replace")
            self.sock.close()
            return
        expected = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        assert self.headers.get("sec-websocket-accept") == expected, self.headers

    def json(self):
        return json.loads(self.body)

    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _read_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("connection closed")
            data += chunk
        return data

    def send_text(self, text):
        self._send_frame(0x1, text.encode())

    def send_binary(self, data):
        self._send_frame(0x2, data)

    def receive(self):
        """The next data or close frame as (opcode, payload); answers pings."""
        while True:
            first, second = self._read_exact(2)
            opcode, n = first & 0x0F, second & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read_exact(8))[0]
            payload = self._read_exact(n)
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            return opcode, payload

    def call(self, frame):
        """Sends one JSON frame and returns the JSON answer."""
        self.send_text(json.dumps(frame))
        opcode, payload = self.receive()
        assert opcode == 0x1, (opcode, payload)
        return json.loads(payload)

    def close_code(self):
        """Waits for the server's close frame and returns its status code."""
        opcode, payload = self.receive()
        assert opcode == 0x8, (opcode, payload)
        return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None

    def close(self):
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


def main():
    """Runs the module's unittest cases; a failure exits 1."""
    unittest.main(verbosity=2)
