"""A bounded load test of a served KMS: concurrent SAE flows, the invariants under contention.

Six master -> slave flows over all four SAEs (both directions of a pair share one pool, and
every SAE is master in one flow and slave in another) run at once against one real
``kms serve`` on 127.0.0.1, each for a fixed number of rounds of ``POST enc_keys`` then
``POST dec_keys``; an outsider SAE tries every key too, and the slave asks twice. Checked:
no 5xx, every key delivered to its master once and to its slave once with the same material,
refused to anyone else, and the store's audit holds afterwards. No latency assertions here:
the figures are in ``benchmarks/bench_kms.py`` / ``benchmarks/README.md``.
"""

from __future__ import annotations

import threading
from collections import Counter

from kms_helpers import SAES

API = "/api/v1/keys"
#: master -> slave flows run concurrently (each SAE plays both roles).
FLOWS = [("A", "B"), ("B", "A"), ("C", "D"), ("D", "C"), ("A", "C"), ("B", "D")]
ROUNDS = 12


def _outsider(master: str, slave: str) -> str:
    return next(s for s in sorted(SAES) if s not in (master, slave))


def test_concurrent_flows_keep_every_invariant(server):
    from qnetai.kms.store import KeyStore

    statuses: Counter[int] = Counter()
    issued: dict[str, tuple[str, str, str]] = {}  # key_ID -> (master, slave, material)
    got_by_slave: dict[str, list[str]] = {}
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(FLOWS))

    def flow(master: str, slave: str) -> None:
        m, s = server.session(master), server.session(slave)
        spy_name = _outsider(master, slave)
        spy = server.session(spy_name)
        local: Counter[int] = Counter()
        try:
            start.wait(timeout=30)
            for _ in range(ROUNDS):
                r = m.post(f"{server.url}{API}/{slave}/enc_keys", json={"number": 1}, timeout=20)
                local[r.status_code] += 1
                if r.status_code != 200:
                    failures.append(f"enc {master}->{slave}: {r.status_code}")
                    continue
                key = r.json()["keys"][0]
                body = {"key_IDs": [{"key_ID": key["key_ID"]}]}
                with lock:
                    if key["key_ID"] in issued:
                        failures.append(f"key_ID {key['key_ID']} issued twice")
                    issued[key["key_ID"]] = (master, slave, key["key"])
                # an SAE not addressed, claiming either SAE as master: refused
                for claimed in (master, slave):
                    x = spy.post(f"{server.url}{API}/{claimed}/dec_keys", json=body, timeout=20)
                    local[x.status_code] += 1
                    if x.status_code != 400:
                        failures.append(f"{spy_name} got {x.status_code} for {master}->{slave}")
                for attempt in range(2):  # the slave once; its repeat is refused
                    d = s.post(f"{server.url}{API}/{master}/dec_keys", json=body, timeout=20)
                    local[d.status_code] += 1
                    if attempt == 0 and d.status_code == 200:
                        with lock:
                            got_by_slave.setdefault(key["key_ID"], []).append(
                                d.json()["keys"][0]["key"]
                            )
                    elif (attempt, d.status_code) != (1, 400):
                        failures.append(f"dec #{attempt} {master}->{slave}: {d.status_code}")
        except Exception as exc:  # reported below, with the flow that raised it
            failures.append(f"{master}->{slave}: {exc!r}")
        finally:
            with lock:
                statuses.update(local)

    threads = [threading.Thread(target=flow, args=f) for f in FLOWS]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert failures == []
    assert not [c for c in statuses if c >= 500]
    n = len(FLOWS) * ROUNDS
    assert statuses == Counter({200: 2 * n, 400: 3 * n})
    assert len(issued) == n
    # each key reached its slave exactly once, with the master's material
    assert got_by_slave == {kid: [material] for kid, (_, _, material) in issued.items()}
    audit = KeyStore(str(server.db)).audit()
    assert audit["ok"], audit
