"""An in-process ETSI GS QKD 014 client: calls the KMS application without a network.

:class:`InProcessClient` sends HTTP requests straight into the ASGI application, with the
TLS extension of a client certificate for its SAE (what :mod:`qnetai.kms.server` adds for a
real mutual-TLS connection), so the application code path is the same as over HTTPS.

Example:
    >>> from qnetai.kms.app import KMSConfig, create_app
    >>> from qnetai.kms.store import KeyStore
    >>> store = KeyStore(":memory:")
    >>> store.configure_pools({("A", "B"): 0.0}, capacity_bits=4096, initial_bits=4096)
    >>> app = create_app(store, KMSConfig(sae_kme={"A": "n1", "B": "n2"}))
    >>> code, body = InProcessClient(app, "A").enc_keys("B", number=1, size=256)
    >>> code, InProcessClient(app, "B").dec_keys("A", [body["keys"][0]["key_ID"]])[1] == body
    (200, True)
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

__all__ = ["InProcessClient"]


class InProcessClient:
    """ETSI 014 calls of SAE ``sae`` on the ASGI ``app``; each returns (status, JSON body)."""

    def __init__(self, app: Any, sae: str) -> None:
        from qnetai.kms.server import _with_tls

        self.sae = sae
        self._app = _with_tls(app, {"client_cert_name": f"CN={sae}"})

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request; (HTTP status, decoded JSON body)."""
        payload = b"" if body is None else json.dumps(body).encode()
        path, _, query = path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "https",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [
                (b"host", b"kme.local"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
            "client": ("127.0.0.1", 0),
            "server": ("kme.local", 443),
        }
        sent = {"done": False}
        status = {"code": 0}
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            if not sent["done"]:
                sent["done"] = True
                return {"type": "http.request", "body": payload, "more_body": False}
            await asyncio.sleep(3600)  # the app never waits for a disconnect here
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        asyncio.run(self._app(scope, receive, send))
        raw = b"".join(chunks)
        return status["code"], json.loads(raw) if raw else None

    def status(self, slave: str) -> tuple[int, Any]:
        """``GET /api/v1/keys/{slave}/status``."""
        return self.request("GET", f"/api/v1/keys/{slave}/status")

    def enc_keys(self, slave: str, *, number: int, size: int) -> tuple[int, Any]:
        """``POST /api/v1/keys/{slave}/enc_keys`` (this SAE is the master)."""
        return self.request(
            "POST", f"/api/v1/keys/{slave}/enc_keys", {"number": number, "size": size}
        )

    def dec_keys(self, master: str, key_ids: list[str]) -> tuple[int, Any]:
        """``POST /api/v1/keys/{master}/dec_keys`` (this SAE is a slave)."""
        body = {"key_IDs": [{"key_ID": k} for k in key_ids]}
        return self.request("POST", f"/api/v1/keys/{master}/dec_keys", body)
