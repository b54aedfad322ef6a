"""Parameter checks shared by the repeater-chain model (:mod:`qnetai.sim.chain`)."""

from __future__ import annotations

import math
import numbers

from qnetai.errors import InputError

#: Relative tolerance used when turning ``cutoff_s / attempt_s`` into a whole number of rounds,
#: so that e.g. ``cutoff_s=3e-3, attempt_s=1e-3`` counts as exactly 3 rounds.
_ROUND_RTOL = 1e-9
#: A cut-off longer than this many rounds can never act (and keeps int64 arithmetic safe).
_MAX_ROUNDS = 2**58
#: Smallest ``p_gen`` of the chain Monte Carlo: rounds (~1 / p_gen each) are counted in 64-bit
#: integers and times in float64 without overflow.
MIN_P_GEN = 1e-12
#: Most segments of a chain (a sample costs ~segments operations; 1e4 is already far beyond
#: any planned repeater line).
MAX_SEGMENTS = 10_000
#: Longest attempt round [s] (11.6 days); keeps every delivery time finite.
MAX_ATTEMPT_S = 1e6


def check_int(name: str, value: object, *, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` as an int, or raise :class:`InputError` naming ``name`` and the range."""
    allowed = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name} must be an integer {allowed} (got {value!r})")
    v = int(value)
    if v < minimum or (maximum is not None and v > maximum):
        raise InputError(f"{name} must be an integer {allowed} (got {v})")
    return v


def _as_float(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a number (got {value!r})")
    v = float(value)
    if math.isnan(v):
        raise InputError(f"{name} must be a number (got nan)")
    return v


def check_probability(name: str, value: object) -> float:
    """A probability in (0, 1]."""
    v = _as_float(name, value)
    if not 0.0 < v <= 1.0:
        raise InputError(f"{name} must be in (0, 1] (got {v:g})")
    return v


def check_positive(name: str, value: object, *, allow_inf: bool = False) -> float:
    """A strictly positive (finite unless ``allow_inf``) number."""
    v = _as_float(name, value)
    if not v > 0.0 or (math.isinf(v) and not allow_inf):
        rng = "(0, inf]" if allow_inf else "(0, inf)"
        raise InputError(f"{name} must be in {rng} (got {v:g})")
    return v


def check_fidelity(name: str, value: object) -> float:
    """A Werner-state fidelity in [0.25, 1]."""
    v = _as_float(name, value)
    if not 0.25 <= v <= 1.0:
        raise InputError(f"{name} must be in [0.25, 1] (got {v:g})")
    return v


def check_range(name: str, value: float, lo: float, hi: float, why: str) -> float:
    """``value`` (already a number) if ``lo <= value <= hi``, else an :class:`InputError`."""
    if not lo <= value <= hi:
        raise InputError(f"{name} must be in [{lo:g}, {hi:g}] ({why}) (got {value:g})")
    return value


def cutoff_rounds(cutoff_s: float, attempt_s: float) -> int:
    """Largest whole number of rounds ``m`` with ``m * attempt_s <= cutoff_s`` (within 1e-9)."""
    ratio = cutoff_s / attempt_s * (1.0 + _ROUND_RTOL)
    return int(min(math.floor(ratio), _MAX_ROUNDS)) if math.isfinite(ratio) else _MAX_ROUNDS
