"""ETSI GS QKD 014 clients: in process (no network) and over HTTPS with mutual TLS.

:class:`InProcessClient` sends HTTP requests straight into the ASGI application, with the
TLS extension of a client certificate for its SAE (what :mod:`qnetai.kms.server` adds for a
real mutual-TLS connection), so the application code path is the same as over HTTPS.
:class:`HTTPSClient` talks to a served KMS (``qnetai kms serve``) over HTTPS, verifying
the KME against the PKI's CA and presenting the SAE's certificate (``SAE.pem``/``SAE.key``
of ``qnetai kms init-pki``); both have the same methods.

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
import os
from typing import Any

__all__ = ["HTTPSClient", "InProcessClient"]


class _Calls:
    """The ETSI 014 operations over ``request`` (implemented by the clients)."""

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        raise NotImplementedError

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


class InProcessClient(_Calls):
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


class HTTPSClient(_Calls):
    """ETSI 014 calls of SAE ``sae`` on the KMS at ``url``, over HTTPS with mutual TLS.

    ``pki_dir`` holds ``ca.pem`` (to verify the KME) and ``SAE.pem``/``SAE.key`` (this SAE's
    certificate and key). One keep-alive session; each call returns (status, JSON body).

    Example (against a running ``qnetai kms serve``)::

        c = HTTPSClient("https://127.0.0.1:8443", "A", "pki")
        code, body = c.enc_keys("B", number=1, size=256)
    """

    def __init__(
        self, url: str, sae: str, pki_dir: str | os.PathLike[str], *, timeout_s: float = 10.0
    ) -> None:
        import requests

        pki = os.fspath(pki_dir)
        cert, key = os.path.join(pki, f"{sae}.pem"), os.path.join(pki, f"{sae}.key")
        for path in (os.path.join(pki, "ca.pem"), cert, key):
            if not os.path.isfile(path):
                raise FileNotFoundError(f"pki_dir: no {path} (see qnetai kms init-pki)")
        self.sae = sae
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._session = requests.Session()
        self._session.trust_env = False  # no proxies; REQUESTS_CA_BUNDLE would override verify
        self._session.verify = os.path.join(pki, "ca.pem")
        self._session.cert = (cert, key)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request; (HTTP status, decoded JSON body)."""
        r = self._session.request(method, self.url + path, json=body, timeout=self.timeout_s)
        return r.status_code, r.json() if r.content else None

    def close(self) -> None:
        """Close the session's connections."""
        self._session.close()
