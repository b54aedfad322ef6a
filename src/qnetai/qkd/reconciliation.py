"""One entry point for information reconciliation: Cascade (two variants) or LDPC syndromes.

Efficiency is reported as ``f = leaked_bits / (n * h2(q))`` (1 is the Slepian-Wolf limit) with
two choices of ``q``:

* ``efficiency``: the actual error fraction between the two keys before reconciliation (known in
  a simulation; what the literature quotes);
* ``efficiency_estimated``: the QBER estimate the protocol used to choose its parameters.

Both are NaN when ``h2(q) = 0``. ``frame_errors`` counts frames whose corrected key still differs
from Alice's (simulation ground truth; a real pipeline learns it from
:func:`qnetai.qkd.hashing.verify_keys`); ``detected_failures`` counts frames the method itself
flagged (LDPC decoder failures; always 0 for Cascade).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError
from qnetai.physics import binary_entropy
from qnetai.qkd.cascade import _as_bits, cascade_reconcile
from qnetai.qkd.ldpc_reconciliation import ldpc_reconcile

METHODS: tuple[str, ...] = ("cascade", "cascade-original", "cascade-option7", "ldpc")
DEFAULT_FRAME_BITS = {
    "cascade": 10_000,
    "cascade-original": 10_000,
    "cascade-option7": 10_000,
    "ldpc": 1 << 14,  # mother code length; key bits per frame: 90 % of it
}


@dataclass(frozen=True)
class ReconciliationResult:
    """Outcome of :func:`reconcile`.

    Attributes:
        corrected_bits: Bob's key after reconciliation (uint8 0/1, Alice's key is the reference).
        leaked_bits: bits disclosed on the public channel (parities or syndromes).
        round_trips: channel round trips (messages of all frames batched together).
        efficiency: leaked_bits / (n h2(q_actual)).
        frame_errors: frames still differing from Alice's key.
        method: method name.
        efficiency_estimated: leaked_bits / (n h2(qber_estimate)).
        qber_actual: error fraction before reconciliation.
        qber_estimate: the estimate given.
        n_bits: key length.
        frames: number of frames.
        frame_bits: frame length.
        residual_bit_errors: bits still differing from Alice's key.
        detected_failures: frames flagged as failed by the method (LDPC only).
        failed_frames: indices of those flagged frames (frame ``i`` holds key bits
            ``[i * frame_bits, (i + 1) * frame_bits)``); the caller should discard them.
    """

    corrected_bits: NDArray[np.uint8]
    leaked_bits: int
    round_trips: int
    efficiency: float
    frame_errors: int
    method: str
    efficiency_estimated: float = float("nan")
    qber_actual: float = float("nan")
    qber_estimate: float = float("nan")
    n_bits: int = 0
    frames: int = 0
    frame_bits: int = 0
    residual_bit_errors: int = 0
    detected_failures: int = 0
    failed_frames: tuple[int, ...] = ()

    def to_dict(self, *, include_bits: bool = False) -> dict[str, object]:
        """Plain-dict view (the key itself only with ``include_bits=True``)."""
        out: dict[str, object] = {}
        for fld in fields(self):
            if fld.name == "corrected_bits" and not include_bits:
                continue
            value = getattr(self, fld.name)
            if isinstance(value, np.ndarray | tuple):
                value = list(np.asarray(value).tolist()) if len(value) else []
            out[fld.name] = value
        return out


def _efficiency(leaked: int, n: int, q: float) -> float:
    h = float(binary_entropy(q)) if 0.0 < q < 1.0 else 0.0
    return leaked / (n * h) if n and h > 0 else float("nan")


def reconcile(
    alice_bits: ArrayLike,
    bob_bits: ArrayLike,
    *,
    qber_estimate: float,
    method: str = "cascade",
    rng: np.random.Generator,
    frame_bits: int | None = None,
) -> ReconciliationResult:
    """Correct Bob's key toward Alice's and account for the information leaked.

    Methods: ``"cascade"`` (Martinez-Mateo et al. 2015 option 8: 14 passes, sub-block reuse),
    ``"cascade-option7"``, ``"cascade-original"`` (Brassard-Salvail 1993, 4 passes) and
    ``"ldpc"`` (rate-adaptive blind syndrome decoding, :mod:`qnetai.qkd.ldpc_reconciliation`).
    ``frame_bits``: Cascade frame length (default 10 000) or LDPC mother code length (default
    16 384, carrying 14 746 key bits). ``failed_frames`` lists the frames the method flagged
    (LDPC decoder failures after all blind rounds); ``result.frame_bits`` is the key bits per
    frame.

    Example:
        >>> rng = np.random.default_rng(7)
        >>> a = rng.integers(0, 2, 30_000, dtype=np.uint8)
        >>> b = a ^ (rng.random(a.size) < 0.03).astype(np.uint8)
        >>> res = reconcile(a, b, qber_estimate=0.03, rng=rng)
        >>> bool((res.corrected_bits == a).all()), 1.0 < res.efficiency < 1.2
        (True, True)
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS} (got {method!r})")
    if not 0.0 <= qber_estimate < 0.5:
        raise InputError(f"qber_estimate must be in [0, 0.5) (got {qber_estimate})")
    a = _as_bits(alice_bits, "alice_bits")
    b = _as_bits(bob_bits, "bob_bits")
    if a.size != b.size:
        raise InputError(f"alice_bits and bob_bits must have equal length ({a.size} != {b.size})")
    fb = DEFAULT_FRAME_BITS[method] if frame_bits is None else int(frame_bits)
    if fb < 16:
        raise InputError(f"frame_bits must be >= 16 (got {fb})")
    n = int(a.size)
    if method == "ldpc":
        if fb < 256:
            raise InputError(f"frame_bits (LDPC code length) must be >= 256 (got {fb})")
        out = ldpc_reconcile(a, b, qber_estimate=qber_estimate, rng=rng, code_bits=fb)
        corrected, leaked, round_trips = out.corrected_bits, out.leaked_bits, out.round_trips
        detected = out.detected_failures
        failed = out.failed_frames
        residual_frames = out.residual_errors_per_frame
        fb = out.frame_bits
    else:
        variant = {"cascade": "option8", "cascade-option7": "option7"}.get(method, "original")
        c = cascade_reconcile(
            a, b, qber_estimate=qber_estimate, rng=rng, variant=variant, frame_bits=fb
        )
        corrected, leaked, round_trips = c.corrected_bits, c.leaked_bits, c.round_trips
        detected = 0
        failed = ()
        residual_frames = c.residual_errors_per_frame
    q_actual = float(np.count_nonzero(a ^ b)) / n if n else 0.0
    return ReconciliationResult(
        corrected_bits=corrected,
        leaked_bits=int(leaked),
        round_trips=int(round_trips),
        efficiency=_efficiency(int(leaked), n, q_actual),
        frame_errors=int(np.count_nonzero(residual_frames)),
        method=method,
        efficiency_estimated=_efficiency(int(leaked), n, float(qber_estimate)),
        qber_actual=q_actual,
        qber_estimate=float(qber_estimate),
        n_bits=n,
        frames=int(residual_frames.size),
        frame_bits=fb,
        residual_bit_errors=int(residual_frames.sum()),
        detected_failures=int(detected),
        failed_frames=tuple(failed),
    )
