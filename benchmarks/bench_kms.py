"""Load test of the ETSI 014 KMS on loopback: concurrent SAE pairs doing enc_keys/dec_keys.

Starts ``qnetai kms serve metro-6g`` (mutual TLS, SQLite WAL) in a subprocess on
127.0.0.1, then runs ``--pairs`` concurrent master/slave SAE pairs, each with its own
HTTPS keep-alive session, for ``--rounds`` rounds of ``POST enc_keys`` (1 key of 256 bits)
followed by ``POST dec_keys`` of that key. Reports requests/s and p50/p99 latency per
endpoint. Time budget: about 10-30 s with the defaults (bounded by rounds, not time).

    .venv/bin/python benchmarks/bench_kms.py --pairs 2 --rounds 150 [--synchronous normal]
    .venv/bin/python benchmarks/bench_kms.py --pairs 2 --rounds 150 --backend postgresql

``--backend postgresql`` starts a throwaway PostgreSQL (initdb + pg_ctl from
/usr/lib/postgresql/*/bin, unix socket in the temporary folder, default settings: fsync and
synchronous_commit on; as the ``postgres`` user when run as root) and serves from it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import requests

NODES = ["metro-east", "metro-west", "bs-harbour", "bs-oldtown", "metro-north", "metro-south"]


def start_postgres(base: Path) -> tuple[str, Any]:
    """A throwaway PostgreSQL on a unix socket under ``base``: (URL, stop function)."""
    import glob
    import os
    import signal

    bindir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
    sock = base / "sock"
    sock.mkdir(parents=True)
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        run_as = ["runuser", "-u", "postgres", "--"]
        for d in [base, *base.parents][:-1]:
            os.chmod(d, d.stat().st_mode | 0o001)
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    data = base / "data"
    quiet = {"stdout": subprocess.DEVNULL, "check": True}
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust",
                    "-U", "postgres"], **quiet)  # fmt: skip
    opts = f"-k {sock} -c listen_addresses=''"
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts,
                    "-l", str(base / "pg.log"), "-w", "start"], **quiet)  # fmt: skip

    def stop() -> None:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGINT)  # fast shutdown
        for _ in range(600):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    return f"postgresql://postgres@/postgres?host={sock}", stop


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def store_only(backend: str, rounds: int, synchronous: str) -> None:
    """p50/p99 of the store's two write transactions alone, and the process CPU time."""
    from qnetai.kms.store import KeyStore

    tmp = Path(tempfile.mkdtemp(prefix="bench-kms-store-"))
    db, stop = str(tmp / "kms.sqlite"), None
    if backend == "postgresql":
        db, stop = start_postgres(tmp / "pg")
    store = KeyStore(db, synchronous=synchronous)
    store.configure_pools({("A", "B"): 0.0}, capacity_bits=1 << 30, initial_bits=1 << 30)
    take, collect = [], []
    cpu0 = time.process_time()
    for _ in range(rounds):
        t0 = time.perf_counter()
        ((kid, _),) = store.take_keys("A", ["B"], number=1, size_bits=256)
        t1 = time.perf_counter()
        store.collect_keys("B", "A", [kid])
        t2 = time.perf_counter()
        take.append(t1 - t0)
        collect.append(t2 - t1)
    cpu = time.process_time() - cpu0
    ok = store.audit()["ok"]
    store.close()
    if stop is not None:
        stop()
    out: dict[str, Any] = {"backend": backend, "synchronous": synchronous, "rounds": rounds}
    for name, v in (("take_keys", take), ("collect_keys", collect)):
        a = np.array(v) * 1e3
        out[f"{name}_p50_ms"] = round(float(np.percentile(a, 50)), 3)
        out[f"{name}_p99_ms"] = round(float(np.percentile(a, 99)), 3)
    out["client_cpu_ms_per_pair"] = round(cpu / rounds * 1e3, 3)
    out["audit_ok"] = ok
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--pairs", type=int, default=2)
    p.add_argument("--rounds", type=int, default=150)
    p.add_argument("--synchronous", default="full")
    p.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument(
        "--store-only",
        action="store_true",
        help="time KeyStore.take_keys/collect_keys in process (no HTTP), --rounds of each",
    )
    args = p.parse_args()
    if args.store_only:
        store_only(args.backend, args.rounds, args.synchronous)
        return
    if not 1 <= args.pairs <= 2:
        # every SAE needs its own node, and in metro-6g only metro-east/west and
        # bs-harbour/oldtown make disjoint pairs with a QKD path (others would get 503s)
        p.error("--pairs must be 1 or 2 (metro-6g has two disjoint SAE pairs with key)")
    from qnetai.kms.pki import init_pki

    tmp = Path(tempfile.mkdtemp(prefix="bench-kms-"))
    saes = [f"S{i}" for i in range(2 * args.pairs)]
    init_pki(tmp / "pki", saes)
    db = str(tmp / "kms.sqlite")
    pg_stop = None
    if args.backend == "postgresql":
        db, pg_stop = start_postgres(tmp / "pg")
    cmd = [sys.executable, "-m", "qnetai.cli.main", "kms", "serve", "metro-6g"]
    cmd += ["--pki", str(tmp / "pki"), "--db", db, "--port", "0"]
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
    server_cpu0, client_cpu0 = proc_cpu_s(proc.pid), time.process_time()
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    server_cpu = proc_cpu_s(proc.pid) - server_cpu0
    client_cpu = time.process_time() - client_cpu0
    proc.terminate()
    proc.wait(timeout=10)
    from qnetai.kms.store import KeyStore

    audit = KeyStore(db).audit()
    if pg_stop is not None:
        pg_stop()
    log.close()
    shutil.rmtree(tmp, ignore_errors=True)
    n = sum(len(v) for v in lat.values())
    out = {
        "backend": args.backend,
        "pairs": args.pairs,
        "rounds": args.rounds,
        "synchronous": args.synchronous,
        "requests": n,
        "errors": len(errors),
        "wall_s": round(wall, 3),
        "requests_per_s": round(n / wall, 1),
        "audit_ok": audit["ok"],
        # CPU time per request (steadier than wall time on a shared machine); the server's
        # is its own process only (a PostgreSQL backend's CPU is not included)
        "server_cpu_ms_per_request": round(server_cpu / max(n, 1) * 1e3, 3),
        "client_cpu_ms_per_request": round(client_cpu / max(n, 1) * 1e3, 3),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    for name, v in lat.items():
        a = np.array(v) * 1e3
        out[f"{name}_p50_ms"] = round(float(np.percentile(a, 50)), 2)
        out[f"{name}_p99_ms"] = round(float(np.percentile(a, 99)), 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
