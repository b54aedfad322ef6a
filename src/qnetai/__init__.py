"""qnetai: AI-driven quantum networks.

A fast, physically validated quantum-network simulator, QKD on that network,
and an AI control and monitoring plane, behind one command: ``qnetai``.

The library's way in is one facade (:mod:`qnetai.facade`), re-exported here:
:func:`run_scenario` (what ``qnetai run`` produces), :func:`simulate`,
:func:`check_runnable` and :func:`describe_scenario`; policies by name are resolved by
:mod:`qnetai.plugins` (:func:`routing_policy`, :func:`slot_policy`). They are imported on
first use, so ``import qnetai`` stays light.

Example:
    >>> import qnetai
    >>> run = qnetai.run_scenario("metro-6g", seed=1)
    >>> run.summary["requests_total"] > 0
    True
"""

from importlib import import_module
from typing import Any

_LAZY = {
    "RunResult": "qnetai.facade",
    "check_runnable": "qnetai.facade",
    "describe_scenario": "qnetai.facade",
    "run_scenario": "qnetai.facade",
    "simulate": "qnetai.facade",
    "routing_policy": "qnetai.plugins",
    "slot_policy": "qnetai.plugins",
}


def __getattr__(name: str) -> Any:
    """Import the facade's names on first use; ``__version__`` too (importlib.metadata is slow)."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("qnetai")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            value = "0.0.0+unknown"
        globals()["__version__"] = value
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qnetai' has no attribute {name!r}")
    return getattr(import_module(module), name)


__all__ = [
    "RunResult",
    "__version__",
    "check_runnable",
    "describe_scenario",
    "routing_policy",
    "run_scenario",
    "simulate",
    "slot_policy",
]
