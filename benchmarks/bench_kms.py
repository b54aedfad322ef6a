"""Load test of the ETSI 014 KMS on loopback: concurrent SAE pairs doing enc_keys/dec_keys.

Starts ``qnetai kms serve metro-6g`` (mutual TLS, SQLite WAL) in a subprocess on
127.0.0.1, then runs ``--pairs`` concurrent master/slave SAE pairs, each with its own
HTTPS keep-alive session, for ``--rounds`` rounds of ``POST enc_keys`` (1 key of 256 bits)
followed by ``POST dec_keys`` of that key. Reports requests/s and p50/p99 latency per
endpoint. Time budget: about 10-30 s with the defaults (bounded by rounds, not time).

    .venv/bin/python benchmarks/bench_kms.py --pairs 2 --rounds 150 [--synchronous normal]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests

NODES = ["metro-east", "metro-west", "bs-harbour", "bs-oldtown", "metro-north", "metro-south"]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--pairs", type=int, default=2)
    p.add_argument("--rounds", type=int, default=150)
    p.add_argument("--synchronous", default="full")
    args = p.parse_args()
    if not 1 <= args.pairs <= 2:
        # every SAE needs its own node, and in metro-6g only metro-east/west and
        # bs-harbour/oldtown make disjoint pairs with a QKD path (others would get 503s)
        p.error("--pairs must be 1 or 2 (metro-6g has two disjoint SAE pairs with key)")
    from qnetai.kms.pki import init_pki

    tmp = Path(tempfile.mkdtemp(prefix="bench-kms-"))
    saes = [f"S{i}" for i in range(2 * args.pairs)]
    init_pki(tmp / "pki", saes)
    cmd = [sys.executable, "-m", "qnetai.cli.main", "kms", "serve", "metro-6g"]
    cmd += ["--pki", str(tmp / "pki"), "--db", str(tmp / "kms.sqlite"), "--port", "0"]
    cmd += ["--synchronous", args.synchronous]
    for i, s in enumerate(saes):
        cmd += ["--sae", f"{s}={NODES[i % len(NODES)]}"]
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url = None
    for _ in range(1200):
        for line in (tmp / "server.log").read_text().splitlines():
            if line.startswith("KMS listening on "):
                url = line.split()[-1]
        if url or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert url, (tmp / "server.log").read_text()

    def session(sae: str) -> requests.Session:
        s = requests.Session()
        s.trust_env = False
        s.verify = str(tmp / "pki" / "ca.pem")
        s.cert = (str(tmp / "pki" / f"{sae}.pem"), str(tmp / "pki" / f"{sae}.key"))
        return s

    lat: dict[str, list[float]] = {"enc_keys": [], "dec_keys": []}
    lock = threading.Lock()
    errors: list[str] = []

    def run_pair(master: str, slave: str) -> None:
        m, s = session(master), session(slave)
        enc, dec = [], []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            r = m.post(f"{url}/api/v1/keys/{slave}/enc_keys", json={"number": 1}, timeout=10)
            t1 = time.perf_counter()
            if r.status_code != 200:
                errors.append(f"enc {r.status_code}")
                continue
            kid = r.json()["keys"][0]["key_ID"]
            body = {"key_IDs": [{"key_ID": kid}]}
            d = s.post(f"{url}/api/v1/keys/{master}/dec_keys", json=body, timeout=10)
            t2 = time.perf_counter()
            if d.status_code != 200 or d.json()["keys"] != r.json()["keys"]:
                errors.append(f"dec {d.status_code}")
            enc.append(t1 - t0)
            dec.append(t2 - t1)
        with lock:
            lat["enc_keys"] += enc
            lat["dec_keys"] += dec

    # warm-up: one TLS handshake and request per pair outside the measurement
    for i in range(args.pairs):
        session(saes[2 * i]).get(f"{url}/api/v1/keys/{saes[2 * i + 1]}/status", timeout=10)
    threads = [
        threading.Thread(target=run_pair, args=(saes[2 * i], saes[2 * i + 1]))
        for i in range(args.pairs)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    proc.terminate()
    proc.wait(timeout=10)
    from qnetai.kms.store import KeyStore

    audit = KeyStore(str(tmp / "kms.sqlite")).audit()
    n = sum(len(v) for v in lat.values())
    out = {
        "pairs": args.pairs,
        "rounds": args.rounds,
        "synchronous": args.synchronous,
        "requests": n,
        "errors": len(errors),
        "wall_s": round(wall, 3),
        "requests_per_s": round(n / wall, 1),
        "audit_ok": audit["ok"],
    }
    for name, v in lat.items():
        a = np.array(v) * 1e3
        out[f"{name}_p50_ms"] = round(float(np.percentile(a, 50)), 2)
        out[f"{name}_p99_ms"] = round(float(np.percentile(a, 99)), 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
