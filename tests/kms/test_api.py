"""ETSI GS QKD 014 API over real HTTPS with client certificates (one server per module)."""

import base64
import time

import pytest
from kms_helpers import SAES, UNREGISTERED

requests = pytest.importorskip("requests")

API = "/api/v1/keys"
STATUS_FIELDS = {
    "source_KME_ID",
    "target_KME_ID",
    "master_SAE_ID",
    "slave_SAE_ID",
    "key_size",
    "stored_key_count",
    "max_key_count",
    "max_key_per_request",
    "max_key_size",
    "min_key_size",
    "max_SAE_ID_count",
}


def test_status_has_the_standard_fields_and_follows_the_simulated_rate(server):
    from qnetai.kms.supply import supply_plan

    rate_bps = supply_plan("metro-6g", SAES).rates_bps[("C", "D")] * 0.001  # --time-scale
    s = server.session("C")
    # The server reads its clock somewhere inside each request, so the time between its two
    # readings lies between these bounds whatever the load (no wall-clock tolerance needed).
    before_first = time.monotonic()
    first = s.get(server.url + f"{API}/D/status", timeout=10)
    after_first = time.monotonic()
    assert first.status_code == 200
    body = first.json()
    assert set(body) == STATUS_FIELDS
    assert body["source_KME_ID"] == SAES["C"] and body["target_KME_ID"] == SAES["D"]
    assert body["master_SAE_ID"] == "C" and body["slave_SAE_ID"] == "D"
    assert body["key_size"] == 256 and body["max_key_count"] == 131072 // 256
    time.sleep(1.5)
    before_second = time.monotonic()
    second = s.get(server.url + f"{API}/D/status", timeout=10).json()
    after_second = time.monotonic()
    grown = second["stored_key_count"] - body["stored_key_count"]
    least = rate_bps * (before_second - after_first) / 256
    most = rate_bps * (after_second - before_first) / 256
    assert least > 5
    assert least - 1 <= grown <= most + 1  # whole keys: one partial key either side


def test_enc_then_dec_delivers_the_same_key_once(server):
    a, b = server.session("A"), server.session("B")
    r = a.post(server.url + f"{API}/B/enc_keys", json={"number": 3, "size": 512}, timeout=10)
    assert r.status_code == 200
    keys = r.json()["keys"]
    assert len(keys) == 3 and all(set(k) == {"key_ID", "key"} for k in keys)
    assert all(len(base64.b64decode(k["key"])) == 64 for k in keys)
    ids = [{"key_ID": k["key_ID"]} for k in keys]
    got = b.post(server.url + f"{API}/A/dec_keys", json={"key_IDs": ids}, timeout=10)
    assert got.status_code == 200 and got.json()["keys"] == keys
    again = b.post(server.url + f"{API}/A/dec_keys", json={"key_IDs": ids[:1]}, timeout=10)
    assert again.status_code == 400 and "message" in again.json()


def test_get_forms_of_enc_and_dec(server):
    a, b = server.session("A"), server.session("B")
    r = a.get(server.url + f"{API}/B/enc_keys", params={"number": 2}, timeout=10)
    assert r.status_code == 200
    keys = r.json()["keys"]
    assert all(len(base64.b64decode(k["key"])) == 32 for k in keys)  # default 256 bits
    got = b.get(server.url + f"{API}/A/dec_keys", params={"key_ID": keys[1]["key_ID"]}, timeout=10)
    assert got.status_code == 200 and got.json()["keys"] == [keys[1]]


def test_only_addressees_get_a_key_multicast_included(server):
    sess = {s: server.session(s) for s in SAES}
    r = sess["A"].post(
        server.url + f"{API}/B/enc_keys",
        json={"number": 1, "additional_slave_SAE_IDs": ["C"]},
        timeout=10,
    )
    assert r.status_code == 200
    key = r.json()["keys"][0]
    body = {"key_IDs": [{"key_ID": key["key_ID"]}]}
    # not addressed: D; wrong master named: C claiming B issued it; the master itself
    assert (
        sess["D"].post(server.url + f"{API}/A/dec_keys", json=body, timeout=10).status_code == 400
    )
    assert (
        sess["C"].post(server.url + f"{API}/B/dec_keys", json=body, timeout=10).status_code == 400
    )
    assert (
        sess["A"].post(server.url + f"{API}/B/dec_keys", json=body, timeout=10).status_code == 400
    )
    for slave in ("B", "C"):
        got = sess[slave].post(server.url + f"{API}/A/dec_keys", json=body, timeout=10)
        assert got.status_code == 200 and got.json()["keys"] == [key]
        repeat = sess[slave].post(server.url + f"{API}/A/dec_keys", json=body, timeout=10)
        assert repeat.status_code == 400


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"number": 1, "size": 100}, "multiple of 8"),
        ({"number": 0}, "number"),
        ({"number": 1000}, "number"),
        ({"size": 16}, "multiple of 8"),
        ({"additional_slave_SAE_IDs": ["nobody"]}, "unknown"),
        ({"additional_slave_SAE_IDs": ["A"]}, "differ"),
        ({"extension_mandatory": [{"abc_route_type": "direct"}]}, "extension_mandatory"),
        ({"number": "many"}, "bad request"),
        ({"unknown_field": 1}, "bad request"),
    ],
)
def test_bad_requests_are_400_error_objects(server, body, fragment):
    r = server.session("A").post(server.url + f"{API}/B/enc_keys", json=body, timeout=10)
    assert r.status_code == 400
    err = r.json()
    assert set(err) <= {"message", "details"} and fragment in err["message"]


def test_unknown_slave_is_400_and_dry_pool_is_503(server):
    a = server.session("A")
    assert a.get(server.url + f"{API}/nobody/status", timeout=10).status_code == 400
    # 128 keys of 8192 bits (1 Mbit) exceed the 131072-bit pool: the standard's 503
    r = a.post(server.url + f"{API}/D/enc_keys", json={"number": 128, "size": 8192}, timeout=10)
    assert r.status_code == 503 and r.json()["message"]
    status = a.get(server.url + f"{API}/D/status", timeout=10).json()
    assert status["stored_key_count"] > 0  # nothing was taken by the refused request


def test_registered_certificate_required(server):
    r = server.session(UNREGISTERED).get(server.url + f"{API}/A/status", timeout=10)
    assert r.status_code == 401 and "not registered" in r.json()["message"]


def test_client_without_certificate_fails_the_handshake(server):
    with pytest.raises(requests.exceptions.ConnectionError):
        server.session(None).get(server.url + f"{API}/A/status", timeout=10)


def test_openapi_document_matches_the_api(server):
    from qnetai.kms.app import KMSConfig, create_app
    from qnetai.kms.models import Error, KeyContainer, KeyIDs, KeyRequest, Status
    from qnetai.kms.store import KeyStore

    doc = create_app(KeyStore(":memory:"), KMSConfig(sae_kme={})).openapi()
    paths = doc["paths"]
    assert set(paths) == {
        f"{API}/{{slave_SAE_ID}}/status",
        f"{API}/{{slave_SAE_ID}}/enc_keys",
        f"{API}/{{master_SAE_ID}}/dec_keys",
    }
    assert set(paths[f"{API}/{{slave_SAE_ID}}/status"]) == {"get"}
    assert set(paths[f"{API}/{{slave_SAE_ID}}/enc_keys"]) == {"get", "post"}
    assert set(paths[f"{API}/{{master_SAE_ID}}/dec_keys"]) == {"get", "post"}
    for ops in paths.values():
        for op in ops.values():
            assert set(op["responses"]) == {"200", "400", "401", "503"}
            for code in ("400", "401", "503"):
                ref = op["responses"][code]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/Error")
    schemas = doc["components"]["schemas"]
    for model in (Status, KeyRequest, KeyContainer, KeyIDs, Error):
        assert set(schemas[model.__name__]["properties"]) == set(model.model_fields)
    assert set(schemas["Status"]["required"]) == STATUS_FIELDS
    # the live server serves the same document
    live = server.session("A").get(server.url + "/openapi.json", timeout=10).json()
    assert live["paths"].keys() == paths.keys()


def test_key_material_is_never_logged(server):
    a, b = server.session("A"), server.session("B")
    keys = a.post(server.url + f"{API}/B/enc_keys", json={"number": 4}, timeout=10).json()["keys"]
    for k in keys:
        b.get(server.url + f"{API}/A/dec_keys", params={"key_ID": k["key_ID"]}, timeout=10)
    time.sleep(0.2)
    log = server.log.read_text(errors="replace")
    assert "dec_keys" in log  # the access log is on: requests are logged
    for k in keys:
        raw = base64.b64decode(k["key"])
        for form in (k["key"], raw.hex(), base64.urlsafe_b64encode(raw).decode()):
            assert form not in log


def test_secure_fl_draws_its_pads_from_the_served_kms_over_mutual_tls(server):
    """The secure-FL demo against this server (HTTPSClient): every round aggregates all four
    clients, the masked sum equals the encoded sum bit for bit, the store's audit holds."""
    pytest.importorskip("sklearn")
    from qnetai.kms.secure_fl import SecureFLConfig, run_secure_fl
    from qnetai.kms.store import KeyStore

    cfg = SecureFLConfig(
        clients=SAES, rounds=2, local_epochs=2, kms_url=server.url, pki_dir=str(server.pki)
    )
    logged = server.log.read_text(errors="replace").count("/enc_keys")
    result = run_secure_fl(cfg)
    time.sleep(0.2)  # the access log is written by the server process
    # 6 pairs x 2 rounds of enc_keys went to the server (its access log counts them)
    assert server.log.read_text(errors="replace").count("/enc_keys") - logged == 12
    assert [len(r["participants"]) for r in result.rounds] == [4, 4]
    assert all(r["aggregate_equals_encoded_sum"] for r in result.rounds)
    assert (
        result.key_accounting["key_bits_drawn"]
        == 2 * 6 * result.key_accounting["bits_per_pair_per_round"]
    )
    assert KeyStore(str(server.db)).audit()["ok"]
    with pytest.raises(ValueError, match="eve_link"):
        SecureFLConfig(kms_url=server.url, pki_dir=str(server.pki), eve_link="x")
