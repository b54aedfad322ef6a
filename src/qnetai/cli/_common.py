"""Helpers shared by the CLI commands: JSON output, errors, consoles."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from rich.console import Console

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def _default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def _finite(obj: Any) -> Any:
    """Replace non-finite floats by None so the output is strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def to_json(obj: Any) -> str:
    """Serialise ``obj`` (dicts, numpy scalars/arrays, pydantic models) to strict JSON."""
    return json.dumps(_finite(json.loads(json.dumps(obj, default=_default))), indent=2)


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout, with nothing else around it."""
    print(to_json(obj))
