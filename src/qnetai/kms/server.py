"""Serving the KMS over HTTPS with mutual TLS (uvicorn, ``[service]`` extra).

uvicorn's ``ssl_cert_reqs=CERT_REQUIRED`` with ``ssl_ca_certs`` makes the TLS handshake
fail for a client without a certificate signed by the CA, so an unauthenticated client
never reaches the application. uvicorn does not pass the peer certificate to the
application, so a subclass of uvicorn's h11 protocol (:func:`_protocol_class`) reads it from
the transport's ``ssl_object`` once per connection and adds the ASGI TLS extension to every
request's scope
(``scope["extensions"]["tls"]``: ``client_cert_name`` as ``CN=...``, ``client_cert_chain``
in PEM, ``tls_version``, ``cipher_suite``); :func:`qnetai.kms.app.peer_sae_id` reads the
SAE ID from it.

Every accepted connection has ``TCP_NODELAY`` set. uvicorn writes a response's headers and
its body as two transport writes, hence two small TLS records; with Nagle's algorithm on,
the second waits for the ACK of the first, which the client delays by ~40 ms. asyncio sets
``TCP_NODELAY`` on accepted sockets only when the listening socket's ``proto`` is
``IPPROTO_TCP``, so :func:`bound_socket` creates it so, and the protocol sets it again on
each connection for sockets made elsewhere.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from typing import Any

__all__ = ["bound_socket", "serve"]


def _tls_extension(ssl_object: Any) -> dict[str, Any]:
    if ssl_object is None:
        return {}
    cert = ssl_object.getpeercert() or {}
    der = ssl_object.getpeercert(binary_form=True)
    short = {"commonName": "CN", "organizationName": "O", "countryName": "C"}
    pairs = [(k, v) for rdn in cert.get("subject", ()) for k, v in rdn]
    name = ",".join(f"{short.get(k, k)}={v}" for k, v in pairs)
    cipher = ssl_object.cipher()
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": name or None,
        "client_cert_error": None,
        "tls_version": ssl_object.version(),
        "cipher_suite": cipher[0] if cipher else None,
    }


def _with_tls(app: Any, tls: dict[str, Any]) -> Any:
    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and tls:
            scope = {**scope, "extensions": {**(scope.get("extensions") or {}), "tls": tls}}
        await app(scope, receive, send)

    return wrapped


def _set_nodelay(transport: Any) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def _protocol_class() -> type:
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TLSH11Protocol(H11Protocol):
        """uvicorn's h11 protocol: client certificate in the ASGI scope, TCP_NODELAY on."""

        def connection_made(self, transport: Any) -> None:
            _set_nodelay(transport)
            super().connection_made(transport)
            self.app = _with_tls(self.app, _tls_extension(transport.get_extra_info("ssl_object")))

    return TLSH11Protocol


def __getattr__(name: str) -> Any:
    if name == "TLSH11Protocol":
        return _protocol_class()
    raise AttributeError(name)


def bound_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening-ready TCP socket bound to ``host:port`` (port 0: an ephemeral port).

    Its ``proto`` is ``IPPROTO_TCP`` (not 0) so that asyncio sets ``TCP_NODELAY`` on the
    connections it accepts.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def serve(
    app: Any,
    *,
    certfile: str | None,
    keyfile: str | None,
    ca_certs: str | None,
    sock: socket.socket,
    log_level: str = "warning",
    access_log: bool = False,
    on_ready: Callable[[], None] | None = None,
    client_cert: str = "required",
) -> None:
    """Serve ``app`` on ``sock`` until stopped.

    With ``certfile``: HTTPS, client certificates ``client_cert="required"`` (the KMS:
    no certificate, no handshake) or ``"optional"`` (the operator service: a browser
    without one sees the dashboard, the ETSI API answers it 401). Without: plain HTTP
    (loopback dashboard; the API answers 401, no client is authenticated).
    """
    import uvicorn

    if client_cert not in ("required", "optional"):
        raise ValueError(f"client_cert must be 'required' or 'optional' (got {client_cert!r})")
    tls: dict[str, Any] = {}
    if certfile is not None:
        tls = {
            "ssl_certfile": certfile,
            "ssl_keyfile": keyfile,
            "ssl_ca_certs": ca_certs,
            "ssl_cert_reqs": ssl.CERT_REQUIRED if client_cert == "required" else ssl.CERT_OPTIONAL,
        }
    config = uvicorn.Config(
        app,
        **tls,
        http=_protocol_class(),
        log_level=log_level,
        access_log=access_log,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    if on_ready is not None:
        original = server.startup

        async def startup(sockets: Any = None) -> None:
            await original(sockets=sockets)
            on_ready()

        server.startup = startup  # type: ignore[method-assign]
    server.run(sockets=[sock])
