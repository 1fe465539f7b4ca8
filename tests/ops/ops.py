"""What the operations tests share: tests/integration/harness.py, and helpers for
configuration files that change under a running gateway and for secrets on disk."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import harness  # noqa: E402  (found through the path above)
from harness import Gateway, request  # noqa: E402,F401  (re-exported for the tests)


def private_dir(parent):
    """A directory only its owner can use, inside `parent` (removed with it)."""
    return tempfile.mkdtemp(prefix="private-", dir=parent)


def write_json(path, config, mode=0o600):
    """Writes `config` as JSON by renaming a complete file over `path`: a gateway watching
    it never reads half a file."""
    scratch = path + ".new"
    harness.write_file(scratch, json.dumps(config, indent=2) if isinstance(config, dict) else config, mode)
    os.replace(scratch, path)
    return path


def config_path(gateway):
    """The file a harness.Gateway was started with."""
    argv = gateway.proc.args
    return argv[argv.index("--config") + 1]


def reloads(gateway):
    return [line for line in gateway.lines if line.get("event") == "reload"]


def reload_with(gateway, config):
    """Rewrites the gateway's configuration, sends SIGHUP and returns the reload line
    that answers the signal (whether it succeeded or not)."""
    seen = len(reloads(gateway))
    write_json(config_path(gateway), config)
    gateway.proc.send_signal(signal.SIGHUP)
    return wait_for_reload(gateway, seen, "signal")


def wait_for_reload(gateway, seen, trigger, timeout=10):
    """The first reload line with `trigger` ("signal" or "file") after the `seen` lines
    already in the log. (The watcher may notice a rewritten file before the signal is
    handled; that reload read the same file.)"""
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in reloads(gateway)[seen:] if line["trigger"] == trigger]
        if found:
            return found[0]
        if gateway.proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"no {trigger} reload line after {timeout}s (gateway status {gateway.proc.poll()}); "
                                 f"log tail: {gateway.lines[-5:]}")
        time.sleep(0.02)


def check_config(binary, config, directory, env=None):
    """--check-config on `config`: the completed process (stdout, stderr, returncode)."""
    path = write_json(os.path.join(directory, f"check-{len(os.listdir(directory))}.json"), config)
    return subprocess.run([binary, "--check-config", "--config", path], capture_output=True, text=True, timeout=30,
                          env=env)


def bearer(token):
    return [("Authorization", f"Bearer {token}")]


def whoami(gateway, headers=(), source=None):
    return request("GET", "127.0.0.1", gateway.port, "/whoami", headers, source=source)
