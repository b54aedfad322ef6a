"""Type aliases for stim objects (stim ships no ``py.typed`` marker, so they are ``Any``)."""

from __future__ import annotations

from typing import Any, TypeAlias

#: A ``stim.Circuit``.
StimCircuit: TypeAlias = Any
#: A ``stim.DetectorErrorModel``.
StimDem: TypeAlias = Any
