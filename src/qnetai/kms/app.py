"""The ETSI GS QKD 014 v1.1.1 REST API as a FastAPI application (``[service]`` extra).

Endpoints (the caller's SAE ID comes from its TLS client certificate, see
:mod:`qnetai.kms.server`):

- ``GET /api/v1/keys/{slave_SAE_ID}/status``: :class:`~qnetai.kms.models.Status`;
- ``GET|POST /api/v1/keys/{slave_SAE_ID}/enc_keys``: the caller is the master; ``number``,
  ``size`` (query or :class:`~qnetai.kms.models.KeyRequest` body),
  ``additional_slave_SAE_IDs`` and extension fields (POST);
- ``GET|POST /api/v1/keys/{master_SAE_ID}/dec_keys``: the caller is a slave; ``key_ID``
  (query) or :class:`~qnetai.kms.models.KeyIDs` (body).

Errors are :class:`~qnetai.kms.models.Error` objects with the standard's codes: 400 (bad
request format, unknown SAE or key_ID, unsupported mandatory extension), 401 (no
authenticated SAE, or an SAE that is not registered) and 503 (the pool cannot serve the
request now). Request validation errors are 400, not FastAPI's 422, and the OpenAPI
document says so. Nothing here logs key material.
"""

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from qnetai.kms.models import Error, KeyContainer, KeyID, KeyIDs, KeyRequest, Status
from qnetai.kms.store import KeyStore, NotEnoughKeyError, UnknownKeyError

__all__ = ["KMSConfig", "KMSError", "create_app"]

API = "/api/v1/keys"


@dataclass(frozen=True)
class KMSConfig:
    """What the KMS serves: SAE -> KME (node) mapping and the limits of the Status object."""

    sae_kme: Mapping[str, str]
    key_size: int = 256
    max_key_per_request: int = 128
    max_key_size: int = 8192
    min_key_size: int = 64
    max_SAE_ID_count: int = 8
    pool_capacity_bits: int = 4_000_000

    def __post_init__(self) -> None:
        if not 8 <= self.min_key_size <= self.key_size <= self.max_key_size:
            raise ValueError(
                f"need 8 <= min_key_size <= key_size <= max_key_size (got {self.min_key_size}, "
                f"{self.key_size}, {self.max_key_size})"
            )
        if any(s % 8 for s in (self.min_key_size, self.key_size, self.max_key_size)):
            raise ValueError("key sizes must be multiples of 8 bits")
        if self.max_key_per_request < 1 or self.max_SAE_ID_count < 0:
            raise ValueError("max_key_per_request must be >= 1, max_SAE_ID_count >= 0")


class KMSError(Exception):
    """An API error: HTTP ``status``, the Error object's ``message`` and ``details``."""

    def __init__(self, status: int, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status, self.message, self.details = status, message, details


def peer_sae_id(scope: Mapping[str, Any]) -> str | None:
    """The SAE ID of the TLS client: CN of the ASGI TLS extension's ``client_cert_name``."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    name = tls.get("client_cert_name")
    if not name:
        return None
    for part in str(name).split(","):
        key, _, value = part.strip().partition("=")
        if key.upper() == "CN" and value:
            return value
    return None


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Error, "description": "Bad request format"},
    401: {"model": Error, "description": "Unauthorized"},
    503: {"model": Error, "description": "Error on server side"},
}


def create_app(store: KeyStore, config: KMSConfig) -> Any:
    """The FastAPI application over ``store`` (pools configured by the caller)."""
    from fastapi import Body, FastAPI, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.openapi.utils import get_openapi
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    app = FastAPI(
        title="qnetai KMS (ETSI GS QKD 014 v1.1.1)",
        version="1.1.1",
        description="Key delivery to SAEs from the simulated QKD network. Mutual TLS: the "
        "SAE ID is the common name of the client certificate.",
    )

    @app.exception_handler(KMSError)
    async def _kms_error(_: Request, exc: KMSError) -> JSONResponse:
        body = Error(message=exc.message, details=exc.details).model_dump(exclude_none=True)
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # FastAPI's own errors (a body that is not JSON, 404, 405) as the standard's Error
        # object, not {"detail": ...}; found by the schemathesis conformance test
        body = Error(message=str(exc.detail)).model_dump(exclude_none=True)
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": ".".join(str(x) for x in e.get("loc", ())), "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        return JSONResponse(
            Error(message="bad request format", details=details).model_dump(), status_code=400
        )

    def caller(request: Request) -> str:
        sae = peer_sae_id(request.scope)
        if sae is None:
            raise KMSError(401, "no authenticated SAE (a TLS client certificate is required)")
        if sae not in config.sae_kme:
            raise KMSError(401, f"SAE {sae!r} is not registered with this KME")
        return sae

    def other(sae: str, me: str, role: str) -> str:
        if sae not in config.sae_kme:
            raise KMSError(400, f"unknown {role} SAE ID {sae!r}")
        if sae == me:
            raise KMSError(400, f"the {role} SAE must differ from the caller")
        return sae

    def status(master: str, slave: str) -> Status:
        try:
            level, cap = store.pool_status(master, slave)
        except NotEnoughKeyError:
            level, cap = 0, config.pool_capacity_bits
        return Status(
            source_KME_ID=config.sae_kme[master],
            target_KME_ID=config.sae_kme[slave],
            master_SAE_ID=master,
            slave_SAE_ID=slave,
            key_size=config.key_size,
            stored_key_count=level // config.key_size,
            max_key_count=cap // config.key_size,
            max_key_per_request=config.max_key_per_request,
            max_key_size=config.max_key_size,
            min_key_size=config.min_key_size,
            max_SAE_ID_count=config.max_SAE_ID_count,
        )

    def container(keys: list[tuple[str, bytes]]) -> KeyContainer:
        from qnetai.kms.models import Key

        return KeyContainer(
            keys=[Key(key_ID=k, key=base64.b64encode(m).decode("ascii")) for k, m in keys]
        )

    def enc_keys(master: str, slave: str, req: KeyRequest) -> KeyContainer:
        number = 1 if req.number is None else req.number
        size = config.key_size if req.size is None else req.size
        extra = list(req.additional_slave_SAE_IDs or [])
        if req.extension_mandatory:
            names = sorted({k for ext in req.extension_mandatory for k in ext})
            raise KMSError(
                400,
                "not all extension_mandatory parameters are supported",
                [{"extension_mandatory_unsupported": names}],
            )
        if not 1 <= number <= config.max_key_per_request:
            raise KMSError(400, f"number must be in [1, {config.max_key_per_request}]")
        if size % 8 or not config.min_key_size <= size <= config.max_key_size:
            raise KMSError(
                400,
                f"size shall be a multiple of 8 in [{config.min_key_size}, {config.max_key_size}]",
            )
        if len(extra) > config.max_SAE_ID_count:
            raise KMSError(400, f"at most {config.max_SAE_ID_count} additional_slave_SAE_IDs")
        slaves = [slave, *(other(s, master, "additional slave") for s in extra)]
        if len(set(slaves)) != len(slaves):
            raise KMSError(400, "additional_slave_SAE_IDs repeats a slave SAE")
        try:
            keys = store.take_keys(master, slaves, number=number, size_bits=size)
        except NotEnoughKeyError as exc:
            raise KMSError(503, "keys are not available now", [{"reason": str(exc)}]) from None
        return container(keys)

    def dec_keys(slave: str, master: str, ids: list[str]) -> KeyContainer:
        if not ids:
            raise KMSError(400, "key_IDs is empty")
        try:
            return container(store.collect_keys(slave, master, ids))
        except UnknownKeyError as exc:
            raise KMSError(400, str(exc)) from None

    common: dict[str, Any] = {"responses": _ERRORS, "response_model_exclude_none": True}

    @app.get(API + "/{slave_SAE_ID}/status", response_model=Status, **common)
    def get_status(slave_SAE_ID: str, request: Request) -> Status:
        """Status of the keys from the caller (master) to ``slave_SAE_ID``."""
        me = caller(request)
        return status(me, other(slave_SAE_ID, me, "slave"))

    @app.get(API + "/{slave_SAE_ID}/enc_keys", response_model=KeyContainer, **common)
    def get_enc_keys(
        slave_SAE_ID: str,
        request: Request,
        number: Annotated[int | None, Query()] = None,
        size: Annotated[int | None, Query()] = None,
    ) -> KeyContainer:
        """Get key: ``number`` keys of ``size`` bits for the caller and ``slave_SAE_ID``."""
        me = caller(request)
        return enc_keys(me, other(slave_SAE_ID, me, "slave"), KeyRequest(number=number, size=size))

    @app.post(API + "/{slave_SAE_ID}/enc_keys", response_model=KeyContainer, **common)
    def post_enc_keys(
        slave_SAE_ID: str, request: Request, body: Annotated[KeyRequest, Body()]
    ) -> KeyContainer:
        """Get key (POST): a KeyRequest, with multicast and extensions."""
        me = caller(request)
        return enc_keys(me, other(slave_SAE_ID, me, "slave"), body)

    @app.get(API + "/{master_SAE_ID}/dec_keys", response_model=KeyContainer, **common)
    def get_dec_keys(
        master_SAE_ID: str, request: Request, key_ID: Annotated[str, Query()]
    ) -> KeyContainer:
        """Get key with key IDs: the key ``key_ID`` issued by ``master_SAE_ID``."""
        me = caller(request)
        return dec_keys(me, other(master_SAE_ID, me, "master"), [key_ID])

    @app.post(API + "/{master_SAE_ID}/dec_keys", response_model=KeyContainer, **common)
    def post_dec_keys(
        master_SAE_ID: str, request: Request, body: Annotated[KeyIDs, Body()]
    ) -> KeyContainer:
        """Get key with key IDs (POST): a KeyIDs object."""
        me = caller(request)
        return dec_keys(me, other(master_SAE_ID, me, "master"), [k.key_ID for k in body.key_IDs])

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for path in schema.get("paths", {}).values():
                for op in path.values():
                    op.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    _ = KeyID  # the body item type appears in the schema through KeyIDs
    return app
