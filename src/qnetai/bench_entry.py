"""The record a package uses to offer a benchmark to ``qnetai bench all``.

It lives below every layer (like :mod:`qnetai.errors`) so that each package's
``bench_entries`` module and :mod:`qnetai.sweep.suite` share one definition without the
lower layers importing the sweep package.

Example:
    >>> BenchEntry("demo", print).version
    '1'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["BenchEntry"]


@dataclass(frozen=True)
class BenchEntry:
    """One benchmark: ``run(quick, methods) -> comparisons`` (see :mod:`qnetai.sweep.suite`).

    ``run`` must be a module-level function so that worker processes and Ray can import it.
    """

    name: str
    run: Callable[[bool, tuple[str, ...]], list[dict[str, Any]]]
    description: str = ""
    version: str = "1"
