"""The data objects of ETSI GS QKD 014 v1.1.1 (section 6), with the standard's field names.

``Status`` (6.1), ``KeyRequest`` (6.2), ``KeyContainer`` (6.3), ``KeyIDs`` (6.4) and
``Error`` (6.5). Extension fields are accepted as free JSON objects; this KME supports no
mandatory extension, so a request that lists one is refused (400) as the standard requires.

Example:
    >>> KeyRequest(number=2, size=256).model_dump(exclude_none=True)
    {'number': 2, 'size': 256}
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Error", "Key", "KeyContainer", "KeyID", "KeyIDs", "KeyRequest", "Status"]


class _Object(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Status(_Object):
    """Status of the key stream from ``master_SAE_ID`` to ``slave_SAE_ID`` (6.1).

    ``key_size`` is the default key size in bits; ``stored_key_count`` the number of keys of
    that size the KME can deliver now; ``max_key_count`` the most it can store.
    """

    source_KME_ID: str
    target_KME_ID: str
    master_SAE_ID: str
    slave_SAE_ID: str
    key_size: int
    stored_key_count: int
    max_key_count: int
    max_key_per_request: int
    max_key_size: int
    min_key_size: int
    max_SAE_ID_count: int
    status_extension: dict[str, Any] | None = None


class KeyRequest(_Object):
    """Body of ``POST enc_keys`` (6.2); every field is optional."""

    number: int | None = Field(default=None, description="Number of keys (default 1).")
    size: int | None = Field(default=None, description="Key size in bits (default key_size).")
    additional_slave_SAE_IDs: list[str] | None = Field(
        default=None, description="Further slave SAEs that get the same keys (multicast)."
    )
    extension_mandatory: list[dict[str, Any]] | None = None
    extension_optional: list[dict[str, Any]] | None = None


class Key(_Object):
    """One key: its UUID ``key_ID`` and the key material in base64 (6.3)."""

    key_ID: str
    key_ID_extension: dict[str, Any] | None = None
    key: str
    key_extension: dict[str, Any] | None = None


class KeyContainer(_Object):
    """Response of ``enc_keys`` and ``dec_keys`` (6.3)."""

    keys: list[Key]
    key_container_extension: dict[str, Any] | None = None


class KeyID(_Object):
    """One entry of :class:`KeyIDs`."""

    key_ID: str
    key_ID_extension: dict[str, Any] | None = None


class KeyIDs(_Object):
    """Body of ``POST dec_keys`` (6.4)."""

    key_IDs: list[KeyID]
    key_IDs_extension: dict[str, Any] | None = None


class Error(_Object):
    """Error response (6.5): a ``message`` and optional ``details`` objects."""

    message: str
    details: list[dict[str, Any]] | None = None
