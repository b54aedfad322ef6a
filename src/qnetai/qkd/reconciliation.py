"""Information reconciliation: one interface, one outcome type, one table of built-in methods.

A reconciliation method is any object with the small :class:`ReconciliationMethod` protocol:
a ``name`` and ``reconcile(alice_bits, bob_bits, qber_estimate, *, rng) ->
ReconciliationOutcome``. The built-ins (:class:`Cascade` in three variants, :class:`Ldpc`)
live in one table, :data:`BUILTIN_RECONCILIATION`, whose keys :data:`RECONCILIATION_METHODS`
are the names the scenario schema and the CLI accept. A user method is passed per call
(``run_bb84(..., reconciliation=MyMethod())``) or named by import path
(``"package.module:MyMethod"``, instantiated without arguments); there is no global
registry. :func:`resolve_reconciliation` turns any of these into a method object and
fails loudly (no fallback) when it cannot.

:func:`reconcile` is the front door: it validates the keys, runs the method and fills the
outcome's diagnostics from the simulation's ground truth. Efficiency is reported as
``f = leaked_bits / (n * h2(q))`` (1 is the Slepian-Wolf limit) with two choices of ``q``:

* ``efficiency``: the actual error fraction between the two keys before reconciliation (known in
  a simulation; what the literature quotes);
* ``efficiency_estimated``: the QBER estimate the protocol used to choose its parameters.

Both are NaN when ``h2(q) = 0``. ``frame_errors`` counts frames whose corrected key still differs
from Alice's (simulation ground truth; a real pipeline learns it from verification, which
sets ``verified_frames``); ``failed_frames`` are the frames the method itself flagged (LDPC
decoder failures; none for Cascade).

Example:
    >>> import numpy as np
    >>> class Oracle:  # a user method: copies Alice's key, discloses all of it
    ...     name = "oracle"
    ...     def reconcile(self, alice_bits, bob_bits, qber_estimate, *, rng):
    ...         return ReconciliationOutcome(corrected_bits=alice_bits.copy(),
    ...             leaked_bits=alice_bits.size, frame_bits=alice_bits.size)
    >>> a = np.zeros(100, np.uint8)
    >>> out = reconcile(a, a ^ 1, qber_estimate=0.01, method=Oracle(), rng=None)
    >>> out.method, out.frame_errors, out.leaked_bits
    ('oracle', 0, 100)
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.config.models import RECONCILIATION_METHODS
from qnetai.errors import InputError

__all__ = [
    "BUILTIN_RECONCILIATION",
    "CASCADE_VARIANTS",
    "RECONCILIATION_METHODS",
    "Cascade",
    "Ldpc",
    "ReconciliationMethod",
    "ReconciliationOutcome",
    "reconcile",
    "resolve_reconciliation",
]

#: Cascade variants: Martinez-Mateo et al. 2015 options 8 and 7, Brassard-Salvail 1993.
CASCADE_VARIANTS: Mapping[str, str] = MappingProxyType(
    {"option8": "cascade", "option7": "cascade-option7", "original": "cascade-original"}
)


@dataclass(frozen=True)
class ReconciliationOutcome:
    """What a reconciliation method returns, and :func:`reconcile` completes.

    A method sets ``corrected_bits``, ``leaked_bits`` and ``frame_bits`` (and, if it has
    them, ``round_trips`` and ``failed_frames``); :func:`reconcile` fills the rest.

    Attributes:
        corrected_bits: Bob's key after reconciliation (uint8 0/1, Alice's key is the reference).
        leaked_bits: bits disclosed on the public channel (parities or syndromes).
        frame_bits: key bits per frame (frame ``i`` holds ``[i * frame_bits, (i + 1) *
            frame_bits)``; the last may be shorter).
        round_trips: channel round trips (messages of all frames batched together).
        failed_frames: indices of the frames the method flagged as failed; the caller
            discards them.
        method: the method's name.
        frames: number of frames.
        frame_errors: frames still differing from Alice's key (simulation ground truth).
        verified_frames: frames that passed hash verification; ``None`` until verified
            (:func:`qnetai.qkd.pipeline.run_bb84` verifies every frame not flagged).
        residual_bit_errors: bits still differing from Alice's key.
        n_bits: key length.
        qber_actual: error fraction before reconciliation.
        qber_estimate: the estimate given.
        efficiency: leaked_bits / (n h2(q_actual)).
        efficiency_estimated: leaked_bits / (n h2(qber_estimate)).
    """

    corrected_bits: NDArray[np.uint8]
    leaked_bits: int
    frame_bits: int
    round_trips: int = 0
    failed_frames: tuple[int, ...] = ()
    method: str = ""
    frames: int = 0
    frame_errors: int = 0
    verified_frames: int | None = None
    residual_bit_errors: int = 0
    n_bits: int = 0
    qber_actual: float = float("nan")
    qber_estimate: float = float("nan")
    efficiency: float = float("nan")
    efficiency_estimated: float = float("nan")

    @property
    def detected_failures(self) -> int:
        """Number of frames the method flagged (``len(failed_frames)``)."""
        return len(self.failed_frames)

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
        out["detected_failures"] = self.detected_failures
        return out


@runtime_checkable
class ReconciliationMethod(Protocol):
    """The interface of a reconciliation method (built-in or the user's).

    ``reconcile`` receives the two keys as 1-D uint8 arrays of equal length, the QBER
    estimate in ``[0, 0.5)`` and the run's random generator; it returns a
    :class:`ReconciliationOutcome` with at least ``corrected_bits``, ``leaked_bits`` and
    ``frame_bits`` set. It must count every bit it discloses in ``leaked_bits`` and must
    not look at ``alice_bits`` beyond what its messages would reveal.
    """

    @property
    def name(self) -> str:
        """Short name, reported with the results."""
        ...

    def reconcile(
        self,
        alice_bits: NDArray[np.uint8],
        bob_bits: NDArray[np.uint8],
        qber_estimate: float,
        *,
        rng: np.random.Generator,
    ) -> ReconciliationOutcome:
        """Correct Bob's key toward Alice's."""
        ...


@dataclass(frozen=True)
class Cascade:
    """Cascade, frame by frame (:func:`qnetai.qkd.cascade.cascade_reconcile`).

    ``variant``: ``"option8"`` (Martinez-Mateo et al. 2015: 14 passes, sub-block reuse),
    ``"option7"`` or ``"original"`` (Brassard-Salvail 1993, 4 passes); ``frame_bits``: frame
    length.

    Example:
        >>> Cascade(variant="original").name
        'cascade-original'
    """

    variant: str = "option8"
    frame_bits: int = 10_000

    def __post_init__(self) -> None:
        if self.variant not in CASCADE_VARIANTS:
            raise InputError(
                f"variant must be one of {', '.join(CASCADE_VARIANTS)} (got {self.variant!r})"
            )
        if int(self.frame_bits) < 16:
            raise InputError(f"frame_bits={self.frame_bits} < 16")

    @property
    def name(self) -> str:
        """``cascade``, ``cascade-option7`` or ``cascade-original``."""
        return CASCADE_VARIANTS[self.variant]

    def reconcile(
        self,
        alice_bits: NDArray[np.uint8],
        bob_bits: NDArray[np.uint8],
        qber_estimate: float,
        *,
        rng: np.random.Generator,
    ) -> ReconciliationOutcome:
        """Run Cascade on every frame in lockstep."""
        from qnetai.qkd.cascade import cascade_reconcile

        c = cascade_reconcile(
            alice_bits,
            bob_bits,
            qber_estimate=qber_estimate,
            rng=rng,
            variant=self.variant,
            frame_bits=int(self.frame_bits),
        )
        return ReconciliationOutcome(
            corrected_bits=c.corrected_bits,
            leaked_bits=c.leaked_bits,
            frame_bits=c.frame_bits,
            round_trips=c.round_trips,
        )


@dataclass(frozen=True)
class Ldpc:
    """Rate-adaptive blind LDPC syndrome decoding (:mod:`qnetai.qkd.ldpc_reconciliation`).

    ``code_bits``: mother code length (the default 16 384 carries 14 746 key bits per frame).

    Example:
        >>> Ldpc().name, Ldpc().code_bits
        ('ldpc', 16384)
    """

    code_bits: int = 1 << 14
    name: ClassVar[str] = "ldpc"

    def __post_init__(self) -> None:
        if int(self.code_bits) < 256:
            raise InputError(f"code_bits={self.code_bits} < 256 (LDPC code length)")

    def reconcile(
        self,
        alice_bits: NDArray[np.uint8],
        bob_bits: NDArray[np.uint8],
        qber_estimate: float,
        *,
        rng: np.random.Generator,
    ) -> ReconciliationOutcome:
        """Decode every frame; frames the decoder cannot fix are flagged in ``failed_frames``."""
        from qnetai.qkd.ldpc_reconciliation import ldpc_reconcile

        out = ldpc_reconcile(
            alice_bits, bob_bits, qber_estimate=qber_estimate, rng=rng, code_bits=self.code_bits
        )
        return ReconciliationOutcome(
            corrected_bits=out.corrected_bits,
            leaked_bits=out.leaked_bits,
            frame_bits=out.frame_bits,
            round_trips=out.round_trips,
            failed_frames=out.failed_frames,
        )


#: The built-in methods, keyed by the names of
#: :data:`qnetai.config.models.RECONCILIATION_METHODS` (the one list of names).
BUILTIN_RECONCILIATION: Mapping[str, ReconciliationMethod] = MappingProxyType(
    {
        "cascade": Cascade(),
        "cascade-option7": Cascade(variant="option7"),
        "cascade-original": Cascade(variant="original"),
        "ldpc": Ldpc(),
    }
)
if tuple(BUILTIN_RECONCILIATION) != RECONCILIATION_METHODS:  # pragma: no cover - a coding error
    raise RuntimeError("BUILTIN_RECONCILIATION must have the names of RECONCILIATION_METHODS")


def _import_method(path: str) -> ReconciliationMethod:
    module_name, _, attr = path.partition(":")
    try:
        obj = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"reconciliation {path!r}: cannot import it ({exc})") from None
    return obj() if isinstance(obj, type) else obj


def resolve_reconciliation(method: str | ReconciliationMethod) -> ReconciliationMethod:
    """The method object for a built-in name, an import path ``"pkg.mod:Name"`` or an object.

    Example:
        >>> resolve_reconciliation("ldpc")
        Ldpc(code_bits=16384)
    """
    if isinstance(method, str):
        if method in BUILTIN_RECONCILIATION:
            return BUILTIN_RECONCILIATION[method]
        if ":" not in method:
            raise InputError(
                f"reconciliation must be one of {', '.join(RECONCILIATION_METHODS)}, an import"
                f" path 'package.module:Name' or a method object (got {method!r})"
            )
        method = _import_method(method)
    if not callable(getattr(method, "reconcile", None)) or not isinstance(
        getattr(method, "name", None), str
    ):
        raise InputError(
            "a reconciliation method needs a str `name` and a `reconcile(alice_bits, bob_bits,"
            f" qber_estimate, *, rng)` method (got {type(method).__name__})"
        )
    return method


def _as_bits(x: object, name: str) -> NDArray[np.uint8]:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise InputError(f"{name} must be a 1-D array of bits (got shape {arr.shape})")
    if arr.size and (arr.min() < 0 or arr.max() > 1):
        raise InputError(f"{name} must contain only 0 and 1")
    return arr.astype(np.uint8, copy=False)


def _efficiency(leaked: int, n: int, q: float) -> float:
    from qnetai.physics import binary_entropy

    h = float(binary_entropy(q)) if 0.0 < q < 1.0 else 0.0
    return leaked / (n * h) if n and h > 0 else float("nan")


def reconcile(
    alice_bits: ArrayLike,
    bob_bits: ArrayLike,
    *,
    qber_estimate: float,
    method: str | ReconciliationMethod = "cascade",
    rng: np.random.Generator,
    frame_bits: int | None = None,
) -> ReconciliationOutcome:
    """Correct Bob's key toward Alice's and account for the information leaked.

    ``method``: a name of :data:`RECONCILIATION_METHODS`, an import path or a
    :class:`ReconciliationMethod` object. ``frame_bits`` (built-in names only): Cascade
    frame length (default 10 000) or LDPC mother code length (default 16 384, carrying
    14 746 key bits); ``result.frame_bits`` is the key bits per frame.

    Example:
        >>> rng = np.random.default_rng(7)
        >>> a = rng.integers(0, 2, 30_000, dtype=np.uint8)
        >>> b = a ^ (rng.random(a.size) < 0.03).astype(np.uint8)
        >>> res = reconcile(a, b, qber_estimate=0.03, rng=rng)
        >>> bool((res.corrected_bits == a).all()), 1.0 < res.efficiency < 1.2
        (True, True)
    """
    m = resolve_reconciliation(method)
    if frame_bits is not None:
        if isinstance(m, Cascade):
            m = dataclasses.replace(m, frame_bits=int(frame_bits))
        elif isinstance(m, Ldpc):
            m = Ldpc(code_bits=int(frame_bits))
        else:
            raise InputError("frame_bits applies to the built-in methods; configure the object")
    if not 0.0 <= qber_estimate < 0.5:
        raise InputError(f"qber_estimate must be in [0, 0.5) (got {qber_estimate})")
    a = _as_bits(alice_bits, "alice_bits")
    b = _as_bits(bob_bits, "bob_bits")
    if a.size != b.size:
        raise InputError(f"alice_bits and bob_bits must have equal length ({a.size} != {b.size})")
    out = m.reconcile(a, b, float(qber_estimate), rng=rng)
    if not isinstance(out, ReconciliationOutcome):
        raise InputError(f"{m.name}.reconcile returned {type(out).__name__}, not an outcome")
    corrected = _as_bits(out.corrected_bits, f"{m.name}: corrected_bits")
    if corrected.size != a.size:
        raise InputError(f"{m.name}: corrected_bits has {corrected.size} bits, not {a.size}")
    fb = int(out.frame_bits)
    if fb < 1 or out.leaked_bits < 0:
        raise InputError(f"{m.name}: frame_bits={fb} < 1 or leaked_bits={out.leaked_bits} < 0")
    n = int(a.size)
    residual = (a ^ corrected).astype(np.int64)
    starts = np.arange(0, n, fb)
    per_frame = np.add.reduceat(residual, starts) if n else np.zeros(0, np.int64)
    q_actual = float(np.count_nonzero(a ^ b)) / n if n else 0.0
    frames = int(starts.size)
    failed = tuple(sorted({int(i) for i in out.failed_frames}))
    if failed and not 0 <= failed[0] <= failed[-1] < frames:
        raise InputError(f"{m.name}: failed_frames outside [0, {frames})")
    return dataclasses.replace(
        out,
        corrected_bits=corrected,
        leaked_bits=int(out.leaked_bits),
        frame_bits=fb,
        round_trips=int(out.round_trips),
        failed_frames=failed,
        method=out.method or m.name,
        frames=frames,
        frame_errors=int(np.count_nonzero(per_frame)),
        residual_bit_errors=int(per_frame.sum()),
        n_bits=n,
        qber_actual=q_actual,
        qber_estimate=float(qber_estimate),
        efficiency=_efficiency(int(out.leaked_bits), n, q_actual),
        efficiency_estimated=_efficiency(int(out.leaked_bits), n, float(qber_estimate)),
    )
