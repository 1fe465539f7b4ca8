#!/usr/bin/env python3
"""gateway.auth.token by reference: each SecretRef source against a real environment
variable, a real file and a real resolver program, the rules each provider enforces, and
a whole run's log searched for every secret it used."""

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import unittest

import ops
from ops import Gateway, bearer, harness, request, whoami

ARGS = harness.arguments()
DIR = harness.work_dir()

ENV_TOKEN = "env-secret-0d6f3c1e9b7a45d2a8c4f0e1b2d3c4a5"
FILE_TOKEN = "file-secret-7a1b9c3d5e7f40218a6b4c2d0e9f8a7b"
EXEC_TOKEN = "exec-secret-3e5d7c9b1a2f4e6d8c0b9a8f7e6d5c4b"
os.environ["TG_OPS_ENV_TOKEN"] = ENV_TOKEN  # the gateways the tests start inherit it
os.environ["TG_OPS_PASSED"] = "passed-value"
os.environ["TG_OPS_HIDDEN"] = "must-not-reach-the-resolver"

# A resolver in the protocol of OpenClaw's exec providers. It records what it was given
# (request, arguments, the environment it saw) next to itself, then answers from a table
# kept next to it too, so each test decides what it says.
RESOLVER = f"""#!{sys.executable}
import json, os, sys, time
here = os.path.dirname(os.path.abspath(__file__))
request = json.load(sys.stdin)
with open(os.path.join(here, "seen.json"), "w") as f:
    json.dump({{"request": request, "args": sys.argv[1:],
               "env": {{k: os.environ.get(k) for k in ("TG_OPS_PASSED", "TG_OPS_HIDDEN", "PATH")}}}}, f)
with open(os.path.join(here, "answer.json")) as f:
    answer = json.load(f)
time.sleep(answer.get("sleep", 0))
if "exit" in answer:
    sys.exit(answer["exit"])
sys.stdout.write(answer["text"] if "text" in answer else json.dumps(answer["json"]))
"""

# Sleeps past any timeout the tests set, with a child of its own; both pids on record.
SLEEPER = f"""#!{sys.executable}
import os, subprocess, sys, time
here = os.path.dirname(os.path.abspath(__file__))
child = subprocess.Popen(["/bin/sleep", "30"])
with open(os.path.join(here, "pids"), "w") as f:
    f.write(f"{{os.getpid()}} {{child.pid}}")
time.sleep(30)
"""


def token_config(token, providers=None):
    """Token mode on loopback; `token` is a string or a SecretRef."""
    config = {"gateway": {"port": 0, "auth": {"mode": "token", "exposeReasons": True, "token": token}}}
    if providers is not None:
        config["secrets"] = {"providers": providers}
    return config


def env_ref(name, provider="default"):
    return {"source": "env", "provider": provider, "id": name}


def install_resolver(answer, script=RESOLVER):
    """A resolver program in a directory of its own; returns (directory, command)."""
    directory = ops.private_dir(DIR)
    command = harness.write_file(os.path.join(directory, "resolver"), script, 0o700)
    set_answer(directory, answer)
    return directory, command


def set_answer(directory, answer):
    harness.write_file(os.path.join(directory, "answer.json"), json.dumps(answer), 0o600)


def values(token, resolver_id="gateway/token"):
    return {"json": {"protocolVersion": 1, "values": {resolver_id: token}}}


def exec_config(command, ref_id="gateway/token", **provider):
    return token_config({"source": "exec", "provider": "vault", "id": ref_id},
                        {"vault": {"source": "exec", "command": command, **provider}})


def secret_file(content, mode=0o600, name="token"):
    return harness.write_file(os.path.join(ops.private_dir(DIR), name), content, mode)


def file_config(path, ref_id, mode="json"):
    return token_config({"source": "file", "provider": "vaultfile", "id": ref_id},
                        {"vaultfile": {"source": "file", "path": path, "mode": mode}})


def ended_soon(pid, timeout=2):
    """Whether `pid` is gone or a zombie within `timeout` seconds (an orphan killed with
    its group waits for init to reap it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


class Checks(unittest.TestCase):
    def assert_authenticates(self, config, token):
        gw = Gateway(ARGS.gateway, config, DIR)
        ok = whoami(gw, bearer(token))
        self.assertEqual((ok.status, ok.json()["via"]), (200, "token"), ok)
        wrong = whoami(gw, bearer(token + "x"))
        self.assertEqual((wrong.status, wrong.json()["error"]["reason"]), (401, "token_mismatch"))
        self.assertEqual(gw.stop(), 0)
        return gw

    def assert_refused(self, config, path, *details, secrets=()):
        """Start-up refuses `config` with one line naming `path` and every detail; neither
        --check-config nor a real start shows any of `secrets`."""
        checked = ops.check_config(ARGS.gateway, config, DIR)
        started = harness.run_gateway_once(ARGS.gateway, config=config, directory=DIR)
        for result in (checked, started):
            self.assertEqual(result.returncode, 2, result)
            lines = result.stderr.splitlines()
            self.assertEqual(len(lines), 1, result.stderr)
            self.assertTrue(lines[0].startswith(f"config error: {path}: "), lines[0])
            for detail in details:
                self.assertIn(detail, lines[0])
            for secret in secrets:
                self.assertNotIn(secret, result.stderr + result.stdout)
        return checked.stderr


class EnvSource(Checks):
    def test_environment_variable_through_the_implicit_default_provider(self):
        self.assert_authenticates(token_config(env_ref("TG_OPS_ENV_TOKEN")), ENV_TOKEN)

    def test_environment_variable_through_a_named_provider(self):
        self.assert_authenticates(token_config(env_ref("TG_OPS_ENV_TOKEN", "osenv"), {"osenv": {"source": "env"}}), ENV_TOKEN)

    def test_a_missing_variable_stops_start_up_naming_path_and_provider(self):
        self.assert_refused(token_config(env_ref("TG_OPS_NOT_SET")), "gateway.auth.token", '"TG_OPS_NOT_SET"',
                            'provider "default"', "(env)", "not set")

    def test_references_are_checked_before_anything_is_resolved(self):
        cases = [
            (token_config(env_ref("lower_case")), "gateway.auth.token.id", "^[A-Z][A-Z0-9_]{0,127}$"),
            (token_config(env_ref("TG_OPS_ENV_TOKEN", "nope")), "gateway.auth.token.provider", "secrets.providers"),
            (token_config(env_ref("TG_OPS_ENV_TOKEN", "Bad")), "gateway.auth.token.provider", "^[a-z]"),
            (token_config({"source": "env", "id": "X"}), "gateway.auth.token.provider", "source, provider and id"),
            (token_config({"source": "vault", "provider": "default", "id": "X"}), "gateway.auth.token.source", '"vault"'),
            (token_config(env_ref("X", "files"), {"files": {"source": "file", "path": "/x"}}), "gateway.auth.token.source",
             '"file", the source of provider "files"'),
            (token_config(env_ref("TG_OPS_ENV_TOKEN"), {"default": {"source": "env", "allowlist": []}}),
             "secrets.providers.default.allowlist", "unknown key"),
            (token_config(env_ref("TG_OPS_ENV_TOKEN"), {"vault": {}}), "secrets.providers.vault.source",
             "secret providers need a source"),
        ]
        for config, path, detail in cases:
            with self.subTest(path=path, detail=detail):
                self.assert_refused(config, path, detail)


class FileSource(Checks):
    def test_json_file_with_an_rfc6901_pointer(self):
        path = secret_file(json.dumps({"gateway": {"to/ken": {"~": FILE_TOKEN}, "other": "x"}}))
        gw = self.assert_authenticates(file_config(path, "/gateway/to~1ken/~0"), FILE_TOKEN)
        self.assertEqual([line for line in gw.lines if line.get("event") == "finding"], [])

    def test_single_value_file_without_its_trailing_newline(self):
        self.assert_authenticates(file_config(secret_file(FILE_TOKEN + "\n"), "value", "singleValue"), FILE_TOKEN)

    def test_a_file_other_users_can_read_is_a_warning(self):
        path = secret_file(FILE_TOKEN + "\n", 0o644)
        config = file_config(path, "value", "singleValue")
        checked = ops.check_config(ARGS.gateway, config, DIR)
        self.assertEqual(checked.returncode, 0, checked)
        self.assertIn("warn [secrets.file_permissions] secrets.providers.vaultfile.path: " + path +
                      " is readable by other users (mode 0644)", checked.stderr)
        gw = self.assert_authenticates(config, FILE_TOKEN)
        (finding,) = [line for line in gw.lines if line.get("event") == "finding"]
        self.assertEqual((finding["id"], finding["severity"], finding["path"]),
                         ("secrets.file_permissions", "warn", "secrets.providers.vaultfile.path"))

    def test_unusable_files_stop_start_up_without_showing_content(self):
        other_writable = secret_file(FILE_TOKEN, 0o666)
        os.chmod(other_writable, 0o666)  # past the umask
        not_json = secret_file('{"gateway": "' + FILE_TOKEN + '"')  # a JSON syntax error next to the secret
        no_pointer = secret_file(json.dumps({"gateway": {"token": FILE_TOKEN}}))
        not_string = secret_file(json.dumps({"gateway": {"token": 12345}}))
        spaced = secret_file(" " + FILE_TOKEN + "\n")
        cases = [
            (file_config("/nonexistent/token", "value", "singleValue"), "cannot open /nonexistent/token"),
            (file_config(other_writable, "value", "singleValue"), "writable by every user"),
            (file_config(not_json, "/gateway"), "does not hold a JSON object"),
            (file_config(no_pointer, "/gateway/tokn"), "has no value at /gateway/tokn"),
            (file_config(not_string, "/gateway/token"), "is not a string"),
            (file_config(spaced, "value", "singleValue"), "surrounding spaces"),
            (file_config(os.path.dirname(spaced), "value", "singleValue"), "not a regular file"),
        ]
        for config, detail in cases:
            with self.subTest(detail=detail):
                self.assert_refused(config, "gateway.auth.token", 'provider "vaultfile" (file)', detail,
                                    secrets=[FILE_TOKEN])

    def test_ids_and_paths_are_checked_when_parsed(self):
        self.assert_refused(file_config("relative/token", "value", "singleValue"), "secrets.providers.vaultfile.path",
                            "absolute path")
        self.assert_refused(file_config("/x", "/a/~2"), "gateway.auth.token.id", "RFC 6901")
        self.assert_refused(file_config("/x", "/a", "singleValue"), "gateway.auth.token.id", '"value"')
        self.assert_refused(file_config("/x", "/a", "yaml"), "secrets.providers.vaultfile.mode", '"singleValue"')


class ExecSource(Checks):
    def seen(self, directory):
        with open(os.path.join(directory, "seen.json")) as f:
            return json.load(f)

    def test_resolver_gets_the_protocol_request_its_args_and_only_passenv(self):
        directory, command = install_resolver(values(EXEC_TOKEN))
        config = exec_config(command, args=["--profile", "two words"], passEnv=["TG_OPS_PASSED", "TG_OPS_NOT_SET"])
        self.assert_authenticates(config, EXEC_TOKEN)
        seen = self.seen(directory)
        self.assertEqual(seen["request"], {"protocolVersion": 1, "provider": "vault", "ids": ["gateway/token"]})
        self.assertEqual(seen["args"], ["--profile", "two words"])
        self.assertEqual(seen["env"], {"TG_OPS_PASSED": "passed-value", "TG_OPS_HIDDEN": None, "PATH": None})

    def test_plain_output_needs_json_only_false(self):
        directory, command = install_resolver({"text": EXEC_TOKEN + "\n"})
        self.assert_authenticates(exec_config(command, jsonOnly=False), EXEC_TOKEN)
        self.assert_refused(exec_config(command), "gateway.auth.token", "did not write a JSON object", secrets=[EXEC_TOKEN])

    def test_a_resolver_past_its_timeout_is_killed_with_its_children(self):
        directory, command = install_resolver({}, SLEEPER)
        started = time.monotonic()
        self.assert_refused(exec_config(command, timeoutMs=300), "gateway.auth.token", 'provider "vault" (exec)',
                            "did not finish within timeoutMs (300 ms) and was killed")
        self.assertLess(time.monotonic() - started, 10)  # two runs, each cut at 300 ms
        with open(os.path.join(directory, "pids")) as f:
            pids = [int(p) for p in f.read().split()]
        for pid in pids:
            with self.subTest(pid=pid):
                self.assertTrue(ended_soon(pid), f"process {pid} outlived the timeout")

    def test_resolver_failures_stop_start_up(self):
        directory, command = install_resolver({})
        answers = [
            ({"exit": 3}, "exited with status 3"),
            ({"json": {"protocolVersion": 1, "values": {}, "errors": {"gateway/token": {"message": "not in the vault"}}}},
             'could not resolve "gateway/token": not in the vault'),
            ({"json": {"protocolVersion": 1, "values": {"other": EXEC_TOKEN}}}, 'gave no value for "gateway/token"'),
            ({"json": {"protocolVersion": 2, "values": {"gateway/token": EXEC_TOKEN}}}, "protocolVersion other than 1"),
            ({"json": {"protocolVersion": 1, "values": {"gateway/token": 7}}}, "is not a string"),
            ({"text": "x" * (1024 * 1024 + 1)}, "more than 1 MiB"),
        ]
        for answer, detail in answers:
            with self.subTest(detail=detail):
                set_answer(directory, answer)
                self.assert_refused(exec_config(command), "gateway.auth.token", '"gateway/token" of provider "vault" (exec)',
                                    detail, secrets=[EXEC_TOKEN])

    def test_command_rules(self):
        directory, command = install_resolver(values(EXEC_TOKEN))
        link = os.path.join(directory, "link")
        os.symlink(command, link)
        self.assert_refused(exec_config(link), "gateway.auth.token", "is a symbolic link")
        self.assert_refused(exec_config(link, allowSymlinkCommand=True, trustedDirs=["/usr"]), "gateway.auth.token",
                            "not inside any of trustedDirs")
        self.assert_authenticates(exec_config(link, allowSymlinkCommand=True, trustedDirs=[directory]), EXEC_TOKEN)
        os.chmod(command, 0o770)
        self.assert_refused(exec_config(command), "gateway.auth.token", "writable by other users (mode 0770)")
        os.chmod(command, 0o600)
        self.assert_refused(exec_config(command), "gateway.auth.token", "not executable")
        self.assert_refused(exec_config(os.path.join(directory, "missing")), "gateway.auth.token", "cannot stat the command")
        self.assert_refused(exec_config("resolver"), "secrets.providers.vault.command", "absolute path")
        self.assert_refused(exec_config(command, trustedDirs=["opt"]), "secrets.providers.vault.trustedDirs[0]", "absolute path")
        self.assert_refused(exec_config(command, passEnv=["A=B"]), "secrets.providers.vault.passEnv[0]", "variable name")
        self.assert_refused(exec_config(command, "../token"), "gateway.auth.token.id", "segments")
        self.assert_refused(exec_config(command, timeoutMs=0), "secrets.providers.vault.timeoutMs", "from 1 to 120000")


class SignalsWhileSlow(unittest.TestCase):
    def test_sighup_while_starting_or_draining_is_ignored(self):
        """behaviour §9: a reload signal while an exec resolver runs at start-up, or while
        draining, is logged and ignored; it never ends the process."""
        directory, command = install_resolver(dict(values(EXEC_TOKEN), sleep=1.5))
        path = ops.write_json(os.path.join(DIR, "slow-start.json"), exec_config(command, timeoutMs=10000))
        log_path = os.path.join(DIR, "slow-start.log")
        with open(log_path, "wb") as log:
            proc = harness.spawn([ARGS.gateway, "--config", path], stderr=log, stdout=subprocess.DEVNULL)
        harness.at_exit(lambda: proc.poll() is None and proc.kill())

        def wait_for_line(predicate, timeout=10):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                with open(log_path) as f:
                    for line in f.read().splitlines():
                        parsed = json.loads(line)
                        if predicate(parsed):
                            return parsed
                self.assertIsNone(proc.poll(), "the gateway ended")
                time.sleep(0.02)
            self.fail("no such log line")

        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(directory, "seen.json")) and time.monotonic() < deadline:
            time.sleep(0.01)  # the resolver is running
        proc.send_signal(signal.SIGHUP)
        ignored = wait_for_line(lambda line: line.get("event") == "signal")
        self.assertEqual((ignored["signal"], ignored["result"]), ("SIGHUP", "ignored"))
        listening = wait_for_line(lambda line: line.get("event") == "listening")
        port = int(listening["url"].rsplit(":", 1)[1])
        self.assertEqual(request("GET", "127.0.0.1", port, "/whoami", bearer(EXEC_TOKEN)).status, 200)

        busy = socket.create_connection(("127.0.0.1", port), 5)
        busy.sendall(b"GET /whoami HTTP/1.1\r\nHost: loc")  # a request in progress holds the drain
        # ... once the server has accepted it: a connection still in the kernel's backlog at
        # SIGTERM is never accepted, and the drain would end at once. The backlog is FIFO, so
        # a later connection answered means this one was accepted before it.
        self.assertEqual(request("GET", "127.0.0.1", port, "/whoami", bearer(EXEC_TOKEN)).status, 200)
        proc.send_signal(signal.SIGTERM)
        wait_for_line(lambda line: line.get("event") == "draining")
        proc.send_signal(signal.SIGHUP)
        wait_for_line(lambda line: line.get("event") == "signal" and "draining" in line["message"])
        busy.close()
        self.assertEqual(proc.wait(timeout=15), 0)


class NoSecretInTheLog(unittest.TestCase):
    """One gateway serves a token from each source in turn (SIGHUP between them) while
    clients send the right token, wrong ones built from it, and it in Basic credentials
    and cookies. Then the whole log is searched for every secret."""

    def test_the_log_holds_none_of_the_secrets(self):
        file_path = secret_file(FILE_TOKEN + "\n")
        _, command = install_resolver(values(EXEC_TOKEN))
        sources = [
            (token_config(env_ref("TG_OPS_ENV_TOKEN")), ENV_TOKEN),
            (file_config(file_path, "value", "singleValue"), FILE_TOKEN),
            (exec_config(command), EXEC_TOKEN),
        ]
        gw = Gateway(ARGS.gateway, sources[0][0], DIR)
        for i, (config, token) in enumerate(sources):
            if i > 0:
                self.assertEqual(ops.reload_with(gw, config)["result"], "ok")
            self.assertEqual(whoami(gw, bearer(token)).status, 200)
            for wrong in (token[:-1], token + "0", token.upper(), token[::-1]):
                self.assertEqual(whoami(gw, bearer(wrong)).status, 401)
            basic = base64.b64encode(f"operator:{token}".encode()).decode()
            self.assertEqual(whoami(gw, [("Authorization", "Basic " + basic)]).status, 401)
            self.assertEqual(whoami(gw, bearer(token) + [("Cookie", f"session={token}")]).status, 200)
            self.assertEqual(whoami(gw, [("Cookie", f"session={token}"), ("X-Api-Key", token)]).status, 401)
            # A reload that fails still names what failed, never the value.
            broken = json.loads(json.dumps(config))
            broken["gateway"]["auth"]["scopes"] = {"tokenScopes": ["operator.nope"]}
            self.assertEqual(ops.reload_with(gw, broken)["result"], "failed")
        self.assertEqual(gw.stop(), 0)
        log = gw.log_text()
        self.assertGreater(len([line for line in gw.lines if line.get("event") == "decision"]), 20)
        for _, token in sources:
            for form in (token, token[4:-4], base64.b64encode(f"operator:{token}".encode()).decode()[8:-8]):
                self.assertNotIn(form, log)


if __name__ == "__main__":
    harness.main()
