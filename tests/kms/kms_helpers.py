"""Helpers of the KMS tests: a real KMS server subprocess on 127.0.0.1."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests  # the test client (a [dev] dependency: never skipped)

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("cryptography")

#: SAE -> node of the metro-6g scenario used by the tests.
SAES = {"A": "metro-east", "B": "metro-west", "C": "bs-harbour", "D": "bs-oldtown"}
#: A certificate signed by the CA for an SAE the server does not know.
UNREGISTERED = "E"


class KMSProcess:
    """``python -m qnetai.cli.main kms serve ...`` in a subprocess, output to a file."""

    def __init__(self, pki: Path, db: Path | str, log: Path, *extra: str) -> None:
        args = [sys.executable, "-m", "qnetai.cli.main", "kms", "serve", "metro-6g"]
        args += ["--pki", str(pki), "--db", str(db), "--port", "0", *extra]
        for sae, node in SAES.items():
            args += ["--sae", f"{sae}={node}"]
        self.log = log
        self.db = db
        self._out = open(log, "wb")
        self.proc = subprocess.Popen(args, stdout=self._out, stderr=subprocess.STDOUT)
        self.url = self._wait_url()
        self.pki = pki

    def _wait_url(self, timeout_s: float = 60.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.log.read_text(errors="replace").splitlines():
                if line.startswith("KMS listening on "):
                    return line.split()[-1]
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("server did not start")

    def session(self, sae: str | None) -> requests.Session:
        """A requests session verifying the KME and presenting ``sae``'s certificate."""
        s = requests.Session()
        s.trust_env = False  # REQUESTS_CA_BUNDLE would override verify; no proxies
        s.verify = str(self.pki / "ca.pem")
        if sae is not None:
            s.cert = (str(self.pki / f"{sae}.pem"), str(self.pki / f"{sae}.key"))
        return s

    def kill(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._out.close()
