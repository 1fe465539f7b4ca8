#!/usr/bin/python3
"""behaviour §13 end to end: the status page in a real browser (Debian's chromium, driven by
chromedriver through python3-selenium) behind real nginx with basic auth
(examples/deploy/nginx-auth-basic.conf, WebSocket upgrade included) and over a direct
local connection; and /metrics, checked by `promtool check metrics`. Screenshots are kept
in --artifacts (the build directory); docs/status-page.png is one of them."""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import harness
from harness import Gateway, request
from proxy_checks import gateway_config

parser = argparse.ArgumentParser(add_help=False)
parser.add_argument("--artifacts", default=".")
OWN, _rest = parser.parse_known_args()
sys.argv = sys.argv[:1] + _rest

harness.require_tools("nginx", "htpasswd", "chromium", "chromedriver", "promtool")
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    harness.skip("needs python3-selenium for /usr/bin/python3 (scripts/deps.sh)")

ARGS = harness.arguments()
DIR = harness.work_dir()


def browser():
    """A fresh headless chromium: its own profile, nothing fetched in the background."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    profile = tempfile.mkdtemp(prefix="chromium-", dir=DIR)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1000,820"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    harness.at_exit(driver.quit)
    driver.set_page_load_timeout(20)
    return driver


def text_of(driver, element_id):
    return driver.find_element(By.ID, element_id).text


class StatusPage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        config = gateway_config()
        config["gateway"]["metrics"] = {"enabled": True, "allowFrom": ["127.0.0.1"]}
        cls.gw = Gateway(ARGS.gateway, config, DIR)
        cls.proxy_port = harness.start_nginx_basic_auth(DIR, ARGS.deploy, "127.0.0.1", f"127.0.0.1:{cls.gw.port}")

    def console_round_trip(self, driver):
        """Sends the default `health` frame from the page's console; returns the answer line."""
        wait = WebDriverWait(driver, 15)
        wait.until(lambda d: text_of(d, "ws-state") == "(open)")
        driver.find_element(By.ID, "send").click()
        wait.until(lambda d: "answer" in (d.find_elements(By.CSS_SELECTOR, "#log > div")[-1].get_attribute("class") or ""))
        return driver.find_elements(By.CSS_SELECTOR, "#log > div")[-1]

    def shoot(self, driver, name):
        path = os.path.join(OWN.artifacts, name)
        self.assertTrue(driver.save_screenshot(path), path)
        self.assertGreater(os.path.getsize(path), 10_000)

    def test_through_nginx_with_basic_auth(self):
        driver = browser()
        _, lines = self.gw.observe(lambda: driver.get(f"http://alice:{harness.PASSWORDS['alice']}@127.0.0.1:{self.proxy_port}/"))
        WebDriverWait(driver, 15).until(lambda d: text_of(d, "user") == "alice")
        self.assertEqual(text_of(driver, "via"), "trusted-proxy")
        self.assertEqual(text_of(driver, "client-ip"), "127.0.0.1")
        self.assertEqual(text_of(driver, "scopes"), "operator.write")
        answer = self.console_round_trip(driver)
        self.assertIn('"ok":true', answer.text)
        self.assertIn('"user":"alice"', answer.text)
        self.assertEqual(answer.get_attribute("class"), "answer-ok")
        self.shoot(driver, "status-page-nginx.png")
        routes = [(l["route"], l["status"] if "status" in l else None) for l in self.gw.decisions() if l.get("user") == "alice"]
        self.assertIn(("/", 200), routes)
        self.assertIn(("/ws", 101), routes)

    def test_direct_local_connection(self):
        driver = browser()
        driver.get(f"http://127.0.0.1:{self.gw.port}/")
        WebDriverWait(driver, 15).until(lambda d: text_of(d, "user") == "operator@localhost")
        self.assertEqual(text_of(driver, "via"), "loopback-user")
        answer = self.console_round_trip(driver)
        self.assertIn('"ok":true', answer.text)
        self.shoot(driver, "status-page-local.png")

    def test_a_refusal_shows_its_reason(self):
        driver = browser()
        driver.get(f"http://bob:{harness.PASSWORDS['bob']}@127.0.0.1:{self.proxy_port}/")
        WebDriverWait(driver, 15).until(lambda d: d.find_element(By.ID, "refusal").is_displayed())
        self.assertIn("reason: trusted_proxy_user_not_allowed", text_of(driver, "refusal-reason"))
        self.assertFalse(driver.find_element(By.ID, "identity-panel").is_displayed())
        self.shoot(driver, "status-page-refused.png")

    def test_metrics_for_allowed_peers_only_and_valid(self):
        request("GET", "127.0.0.1", self.gw.port, "/whoami")  # at least one decision
        res, lines = self.gw.observe(lambda: request("GET", "127.0.0.1", self.gw.port, "/metrics"))
        self.assertEqual((res.status, lines), (200, []))  # scrapes are not decisions
        self.assertTrue(res.headers["content-type"].startswith("text/plain; version=0.0.4"))
        text = res.body
        self.assertRegex(text, r'trustgate_decisions_total\{decision="allow",reason="ok",via="loopback-user"\} [1-9]')
        self.assertIn("trustgate_config_generation 1\n", text)
        checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)

        # Through nginx the gateway's peer is 127.0.0.1 too, so put the metrics elsewhere.
        other = gateway_config()
        other["gateway"]["metrics"] = {"enabled": True, "path": "/internal/metrics", "allowFrom": ["10.0.0.0/8"]}
        gw = Gateway(ARGS.gateway, other, DIR)
        res, lines = gw.observe(lambda: request("GET", "127.0.0.1", gw.port, "/internal/metrics"))
        self.assertEqual((res.status, lines), (404, []))
        gw.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
