"""The operator dashboard in a real browser: Debian's headless Chromium driven by playwright.

``qnetai serve metro-6g`` runs in a subprocess (plain HTTP on 127.0.0.1, accelerated key
generation); the tests check that the page loads (scenario, topology, pools, entanglement
figures), that it updates live from the server-sent events, and that an injected operator
alert and an eavesdropper's QBER alert appear without reloading. Chromium is the Debian
package (/usr/bin/chromium), never a browser downloaded by playwright; when it is missing the
tests fail in CI and for root and skip for a non-root developer (``pg_helpers``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pg_helpers import require_or_skip

requests = pytest.importorskip("requests")
pytest.importorskip("playwright")

CHROMIUM = os.environ.get("QNETAI_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("dashboard")
    log = tmp / "serve.log"
    args = [sys.executable, "-m", "qnetai.cli.main", "serve", "metro-6g", "--port", "0"]
    args += ["--db", str(tmp / "kms.sqlite"), "--time-scale", "0.001"]
    args += ["--interval", "0.3", "--monitor-interval", "0.3"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = None
        deadline = time.monotonic() + 90
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith("dashboard: "):
                    url = line.split()[-1]
            time.sleep(0.05)
        assert url, log.read_text()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        require_or_skip(f"Chromium ({CHROMIUM})", "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def test_page_loads_with_topology_pools_and_entanglement_figures(dashboard, browser):
    page = browser.new_page()
    page.goto(dashboard)
    page.wait_for_function("document.getElementById('scenario').textContent === 'metro-6g'")
    assert page.title() == "qnetai operator dashboard"
    assert page.locator("#topology line.link").count() == 4  # the QKD links of metro-6g
    assert page.locator("#topology circle").count() == 14
    assert page.locator("#pools tr.pool").count() == 6  # C(4, 2) SAE pairs
    ent = page.locator("#entanglement").inner_text()
    assert "pairs delivered" in ent and "BBM92" in ent
    page.close()


def test_page_updates_live(dashboard, browser):
    page = browser.new_page()
    page.goto(dashboard)
    page.wait_for_function("Number(document.getElementById('updates').textContent) >= 1")
    first = int(page.locator("#pools tr[data-pair='A-B'] td.level").inner_text())
    page.wait_for_function("Number(document.getElementById('updates').textContent) >= 4")
    assert page.locator("#status").inner_text() == "live"
    # 1.37 Mbit/s x 0.001: the A-B pool gains ~1.4 kbit/s of wall time
    later = int(page.locator("#pools tr[data-pair='A-B'] td.level").inner_text())
    assert later > first
    page.close()


def test_injected_alert_and_eavesdropper_show_without_reload(dashboard, browser):
    page = browser.new_page()
    page.goto(dashboard)
    page.wait_for_function("Number(document.getElementById('updates').textContent) >= 1")
    base = dashboard.rsplit("/dashboard", 1)[0]
    s = requests.Session()
    s.trust_env = False
    r = s.post(base + "/dashboard/alerts", json={"message": "fibre cut test 4711"}, timeout=10)
    assert r.status_code == 200
    page.locator("#alerts li", has_text="fibre cut test 4711").wait_for(timeout=10_000)
    link = "metro-central-metro-east"
    r = s.post(base + "/dashboard/eavesdropper", json={"link": link, "fraction": 0.8}, timeout=10)
    assert r.status_code == 200
    page.locator("#alerts li.qber", has_text=link).wait_for(timeout=15_000)
    page.wait_for_function(
        f"document.querySelector(\"line[data-link='{link}']\").dataset.up === 'false'"
    )
    assert float(page.locator("#pools tr[data-pair='A-B'] td:nth-child(4)").inner_text()) == 0
    bad = s.post(base + "/dashboard/alerts", json={"message": ""}, timeout=10)
    assert bad.status_code == 400 and "message" in bad.json()["message"]
    page.close()


def test_serve_with_pki_authenticates_saes_and_leaves_the_dashboard_open(pki, tmp_path):
    """HTTPS with optional client certificates: an SAE gets keys, a browser-like client
    without a certificate sees the dashboard and is refused by the ETSI API (401)."""
    log = tmp_path / "serve.log"
    args = [sys.executable, "-m", "qnetai.cli.main", "serve", "metro-6g", "--port", "0"]
    args += ["--db", str(tmp_path / "kms.sqlite"), "--pki", str(pki), "--no-engine"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = None
        deadline = time.monotonic() + 90
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith("dashboard: "):
                    url = line.split()[-1]
            time.sleep(0.05)
        assert url and url.startswith("https://"), log.read_text()
        base = url.rsplit("/dashboard", 1)[0]
        anon = requests.Session()
        anon.trust_env, anon.verify = False, str(pki / "ca.pem")
        assert anon.get(url, timeout=10).status_code == 200
        assert anon.get(base + "/api/v1/keys/B/status", timeout=10).status_code == 401
        sae = requests.Session()
        sae.trust_env, sae.verify = False, str(pki / "ca.pem")
        sae.cert = (str(pki / "A.pem"), str(pki / "A.key"))
        r = sae.post(base + "/api/v1/keys/B/enc_keys", json={"number": 1}, timeout=10)
        assert r.status_code == 200 and len(r.json()["keys"]) == 1
        state = anon.get(base + "/dashboard/state", timeout=10).text
        assert r.json()["keys"][0]["key"] not in state  # no key material on the dashboard
    finally:
        proc.terminate()
        proc.wait(timeout=20)
