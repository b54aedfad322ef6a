"""Network simulation engine (being written)."""

from __future__ import annotations

from typing import Any


class Simulation:  # pragma: no cover - placeholder
    """Placeholder."""


def simulate(scenario: Any, *, seed: int | None = None, progress: Any = None) -> Any:  # pragma: no cover
    """Placeholder."""
    raise NotImplementedError("engine not written yet")
