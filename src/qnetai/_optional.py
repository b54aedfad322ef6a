"""Lazy imports of optional dependencies with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtraError(ImportError):
    """An optional dependency is missing; the message says which extra installs it."""


def require(module: str, *, extra: str, package: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra.

    Example:
        >>> np = require("numpy", extra="core")
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised when extras are absent
        pkg = package or module.split(".")[0]
        raise MissingExtraError(
            f"{pkg!r} is needed for this feature: pip install 'qnetai[{extra}]' "
            f"(or pip install {pkg})"
        ) from exc
