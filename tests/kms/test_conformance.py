"""Conformance of the ETSI GS QKD 014 API, in process (ASGI), no network.

1. schemathesis generates requests from the service's own OpenAPI document (bounded: a few
   dozen examples per operation, no example database) and checks every response against
   it: no server error, a documented status code, the documented content type and a body
   that validates against the response schema.
2. Tests written from the text of ETSI GS QKD 014 v1.1.1 (clauses cited in each).
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.python.asgi import get_client  # noqa: E402  (requests over ASGI)
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from qnetai.kms.app import KMSConfig, create_app  # noqa: E402
from qnetai.kms.server import _with_tls  # noqa: E402
from qnetai.kms.store import KeyStore  # noqa: E402

API = "/api/v1/keys"
SAES = {"A": "kme-1", "B": "kme-2", "C": "kme-3"}


def as_sae(app: Any, sae: str | None) -> Any:
    """``app`` with the ASGI TLS extension of a client certificate for ``sae``."""
    return app if sae is None else _with_tls(app, {"client_cert_name": f"CN={sae}"})


def make_app() -> Any:
    store = KeyStore(":memory:")
    pairs = {("A", "B"): 0.0, ("A", "C"): 0.0, ("B", "C"): 0.0}
    store.configure_pools(pairs, capacity_bits=1 << 22, initial_bits=1 << 22)
    return create_app(store, KMSConfig(sae_kme=SAES, pool_capacity_bits=1 << 22))


APP = make_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", as_sae(APP, "A"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
BOUNDED = settings(
    max_examples=10,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@BOUNDED
def test_generated_requests_conform_to_the_openapi_document(case):
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@BOUNDED
def test_generated_requests_to_a_registered_peer_conform(case):
    # random path strings almost never name an SAE: also aim every request at a real one
    for name in ("slave_SAE_ID", "master_SAE_ID"):
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = "B"
    case.call_and_validate(checks=CHECKS)


# ----------------------------------------------------------------------- the standard's text


@pytest.fixture
def client():
    app = make_app()
    clients = {s: get_client(as_sae(app, s)) for s in [*SAES, None]}
    for c in clients.values():
        c.__enter__()
    yield clients
    for c in clients.values():
        c.__exit__(None, None, None)


def test_default_number_is_1_and_default_size_is_key_size(client):
    # 6.2: number "default value is 1"; size "default value is defined as key_size in Status"
    status = client["A"].get(f"{API}/B/status").json()
    keys = client["A"].post(f"{API}/B/enc_keys", json={}).json()["keys"]
    assert len(keys) == 1
    assert len(base64.b64decode(keys[0]["key"], validate=True)) * 8 == status["key_size"]


def test_key_ids_are_uuids_and_keys_base64(client):
    # 6.3: key_ID "Key ID in UUID format"; key "Key data encoded by base64"
    keys = client["A"].get(f"{API}/B/enc_keys", params={"number": 5, "size": 128}).json()
    for k in keys["keys"]:
        assert str(uuid.UUID(k["key_ID"])) == k["key_ID"]
        assert len(base64.b64decode(k["key"], validate=True)) == 16


def test_optional_extensions_may_be_ignored_mandatory_ones_refused(client):
    # 6.2: extension_optional "that KME may ignore"; extension_mandatory "that KME shall
    # handle or return an error" (400 with the unsupported names in details)
    ok = client["A"].post(f"{API}/B/enc_keys", json={"extension_optional": [{"abc_x": 1}]})
    assert ok.status_code == 200
    bad = client["A"].post(
        f"{API}/B/enc_keys", json={"extension_mandatory": [{"abc_route_type": "direct"}]}
    )
    assert bad.status_code == 400
    assert bad.json()["details"] == [{"extension_mandatory_unsupported": ["abc_route_type"]}]


def test_stored_key_count_falls_by_the_keys_delivered(client):
    # 6.1: stored_key_count "Number of stored keys KME can deliver to the SAE"
    before = client["A"].get(f"{API}/C/status").json()["stored_key_count"]
    client["A"].post(f"{API}/C/enc_keys", json={"number": 3})
    after = client["A"].get(f"{API}/C/status").json()["stored_key_count"]
    assert before - after == 3  # rate 0: no refill in between


def test_master_and_slave_see_the_same_key_and_slave_ids_are_named_in_status(client):
    # 5.2/5.3: the slave obtains with the key_IDs the keys the master obtained
    status = client["B"].get(f"{API}/C/status").json()
    assert (status["master_SAE_ID"], status["slave_SAE_ID"]) == ("B", "C")
    assert (status["source_KME_ID"], status["target_KME_ID"]) == ("kme-2", "kme-3")
    keys = client["B"].post(f"{API}/C/enc_keys", json={"number": 2}).json()["keys"]
    body = {"key_IDs": [{"key_ID": k["key_ID"]} for k in keys]}
    assert client["C"].post(f"{API}/B/dec_keys", json=body).json()["keys"] == keys


def test_multicast_limited_by_max_sae_id_count(client):
    # 6.1 max_SAE_ID_count "Maximum number of additional_slave_SAE_IDs the KME allows"
    limit = client["A"].get(f"{API}/B/status").json()["max_SAE_ID_count"]
    many = [f"X{i}" for i in range(limit + 1)]
    r = client["A"].post(f"{API}/B/enc_keys", json={"additional_slave_SAE_IDs": many})
    assert r.status_code == 400 and set(r.json()) <= {"message", "details"}


def test_error_codes_and_json_content_type(client):
    # 5.1-5.3 response codes: 400 bad request format, 401 unauthorized; bodies are Error
    cases = [
        (client[None], f"{API}/B/status", 401),  # no authenticated SAE
        (client["A"], f"{API}/A/status", 400),  # oneself as slave
        (client["A"], f"{API}/Z/status", 400),  # unknown SAE
    ]
    for c, url, code in cases:
        r = c.get(url)
        assert r.status_code == code
        assert r.headers["content-type"].startswith("application/json")
        assert isinstance(r.json()["message"], str)
    r = client["A"].get(f"{API}/B/dec_keys")  # key_ID missing
    assert r.status_code == 400 and r.json()["message"] == "bad request format"
