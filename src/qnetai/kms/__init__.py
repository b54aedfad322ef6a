"""ETSI GS QKD 014 key-management service over the simulated QKD network.

- :mod:`~qnetai.kms.models`: the standard's objects (Status, KeyRequest, KeyContainer,
  KeyIDs, Error);
- :mod:`~qnetai.kms.store`: the key store (SQLite WAL, or PostgreSQL by URL) and its
  invariants;
- :mod:`~qnetai.kms.supply`: SAE-pair key rates from a scenario's key network;
- :mod:`~qnetai.kms.app` / :mod:`~qnetai.kms.server` / :mod:`~qnetai.kms.service`: the
  FastAPI application and its HTTPS server with mutual TLS (``[service]`` extra);
- :mod:`~qnetai.kms.pki`: a test CA and certificates (``cryptography``);
- :mod:`~qnetai.kms.live` / :mod:`~qnetai.kms.dashboard`: the running network (QBER
  monitor, link aborts, alerts) and the operator dashboard (``qnetai serve``);
- :mod:`~qnetai.kms.client`: an in-process ETSI 014 client;
- :mod:`~qnetai.kms.secure_fl`: federated learning masked with QKD one-time pads
  (``qnetai demo secure-fl``).

Importing this package loads neither FastAPI nor uvicorn nor cryptography.
"""

from qnetai.kms.models import Error, Key, KeyContainer, KeyID, KeyIDs, KeyRequest, Status
from qnetai.kms.store import KeyStore, NotEnoughKeyError, UnknownKeyError
from qnetai.kms.supply import SupplyPlan, supply_plan

__all__ = [
    "Error",
    "Key",
    "KeyContainer",
    "KeyID",
    "KeyIDs",
    "KeyRequest",
    "KeyStore",
    "NotEnoughKeyError",
    "Status",
    "SupplyPlan",
    "UnknownKeyError",
    "supply_plan",
]
