"""qnetai: AI-driven quantum networks.

A fast, physically validated quantum-network simulator, QKD on that network,
and an AI control and monitoring plane, behind one command: ``qnetai``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qnetai")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
