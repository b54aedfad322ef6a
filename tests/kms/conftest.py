"""Shared fixtures: a test PKI and a real KMS server subprocess on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kms_helpers import SAES, UNREGISTERED, KMSProcess


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from qnetai.kms.pki import init_pki

    out = tmp_path_factory.mktemp("kms") / "pki"
    init_pki(out, [*SAES, UNREGISTERED])
    return out


@pytest.fixture(scope="module")
def server(pki: Path, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("kms-server")
    env_ok = os.environ.get("QNETAI_KMS_TEST_TIME_SCALE", "0.001")
    proc = KMSProcess(
        pki,
        tmp / "kms.sqlite",
        tmp / "server.log",
        "--time-scale",
        env_ok,
        "--initial-pool-bits",
        "65536",
        "--pool-capacity-bits",
        "131072",
        "--access-log",
        "--log-level",
        "debug",
    )
    yield proc
    proc.kill()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory):
    """A throwaway PostgreSQL server for this test session (see ``pg_helpers``)."""
    from pg_helpers import Postgres

    server = Postgres(tmp_path_factory.mktemp("pg"))
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh key-store target: an SQLite file, or a new PostgreSQL database URL."""
    if request.param == "sqlite":
        return str(tmp_path / "kms.sqlite")
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture(scope="session")
def metro_key_network():
    """The key network of metro-6g at its own seed, computed once (as run_secure_fl does)."""
    import numpy as np

    from qnetai import facade, qkd
    from qnetai.topology import resolve

    sc = resolve(facade.load("metro-6g"))
    return qkd.simulate_key_network(
        sc, rng=np.random.default_rng([int(sc.seed), facade.QKD_SEED_TAG])
    )
