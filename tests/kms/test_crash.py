"""kill -9 of the KMS during a request loop: no key lost, duplicated or misdelivered."""

import base64
import signal
import threading
import time

import pytest
from kms_helpers import KMSProcess

requests = pytest.importorskip("requests")

API = "/api/v1/keys"


def test_sigkill_during_request_loop_keeps_the_invariants(pki, tmp_path, db_target):
    """Both backends: an SQLite file, a PostgreSQL database (``db_target``)."""
    from qnetai.kms.store import KeyStore

    db = db_target
    server = KMSProcess(pki, db, tmp_path / "s1.log", "--time-scale", "1")
    a, b = server.session("A"), server.session("B")
    issued: dict[str, str] = {}  # key_ID -> key, as the master received them
    collected: dict[str, str] = {}  # as the slave received them
    errors: list[BaseException] = []
    started = threading.Event()

    def loop() -> None:
        try:
            for i in range(400):  # bounded; the kill comes long before the end
                r = a.post(server.url + f"{API}/B/enc_keys", json={"number": 4}, timeout=5)
                r.raise_for_status()
                new = {k["key_ID"]: k["key"] for k in r.json()["keys"]}
                assert not set(new) & set(issued)
                issued.update(new)
                ids = [{"key_ID": k} for k in list(new)[: 2 + i % 3]]  # leave some for later
                d = b.post(server.url + f"{API}/A/dec_keys", json={"key_IDs": ids}, timeout=5)
                d.raise_for_status()
                for k in d.json()["keys"]:
                    assert k["key_ID"] not in collected
                    collected[k["key_ID"]] = k["key"]
                if i == 5:
                    started.set()
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError,  # killed while writing a response
        ):
            pass  # the server was killed
        except BaseException as exc:
            errors.append(exc)
        finally:
            started.set()

    worker = threading.Thread(target=loop)
    worker.start()
    assert started.wait(30)
    time.sleep(0.3)
    server.kill(signal.SIGKILL)
    worker.join(30)
    assert not worker.is_alive() and not errors
    assert server.proc.returncode == -signal.SIGKILL
    assert len(issued) >= 24 and collected

    store = KeyStore(db)
    audit = store.audit()
    assert audit["ok"], audit
    rows = store._db.execute(
        "SELECT k.key_id, d.sae, d.role, d.delivered_s FROM keys k "
        "JOIN deliveries d ON d.key_id = k.key_id"
    ).fetchall()
    store.close()
    by_key: dict[str, dict[str, float | None]] = {}
    for key_id, sae, role, delivered in rows:
        by_key.setdefault(key_id, {})[f"{role}:{sae}"] = delivered
    assert all(set(v) == {"master:A", "slave:B"} for v in by_key.values())  # nobody else
    # every key the master got is in the store as delivered to it; at most one request
    # (4 keys) was committed without its response reaching the client
    assert set(issued) <= set(by_key)
    assert len(set(by_key) - set(issued)) <= 4
    for key_id in collected:
        assert by_key[key_id]["slave:B"] is not None
    pending = [k for k in issued if by_key[k]["slave:B"] is None]
    # delivery is at most once: a dec_keys committed just before the kill may have lost its
    # response (those keys count as delivered); that is one request, at most 4 keys
    assert len(set(issued) - set(collected) - set(pending)) <= 4
    assert pending

    # restart on the same database: the slave gets each pending key once, the same bytes
    again = KMSProcess(pki, db, tmp_path / "s2.log", "--time-scale", "1")
    try:
        b2 = again.session("B")
        body = {"key_IDs": [{"key_ID": k} for k in pending]}
        got = b2.post(again.url + f"{API}/A/dec_keys", json=body, timeout=10)
        assert got.status_code == 200
        assert {k["key_ID"]: k["key"] for k in got.json()["keys"]} == {
            k: issued[k] for k in pending
        }
        assert all(len(base64.b64decode(issued[k])) == 32 for k in pending)
        for key_id in list(collected)[:3] + pending[:3]:
            body = {"key_IDs": [{"key_ID": key_id}]}
            assert (
                b2.post(again.url + f"{API}/A/dec_keys", json=body, timeout=10).status_code == 400
            )
    finally:
        again.kill()
    store = KeyStore(db)
    assert store.audit()["ok"]
    store.close()
