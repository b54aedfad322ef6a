"""The abstract repeater chain, batched: a vectorised Monte Carlo of the standard model.

It is the fast path for linear chains and the engine's correctness oracle. The model, exactly:

* **Links.** ``N`` segments attempt entanglement generation in synchronised rounds of
  ``attempt_s``; each attempt of each free segment succeeds independently with probability
  ``p_gen``. A link that succeeds in round ``k`` exists from time ``k * attempt_s`` (round ``k``
  spans ``((k-1) * attempt_s, k * attempt_s]``). A fresh link is a Werner state of fidelity
  ``fidelity`` (Werner parameter ``w0 = (4F - 1) / 3``).
* **Memory.** A stored pair's Werner parameter is multiplied by ``exp(-dt / t_coh_s)`` over every
  ``dt`` it is stored: one factor per *pair*, whatever its length (each pair occupies two memory
  qubits, one at each end).
* **Swap-asap.** As soon as two adjacent pairs share a node they are swapped, instantly; the
  result has ``w = w1 * w2`` (each taken at the swap time) and then decays like any stored pair.
  Each swap succeeds with probability ``p_swap``. *Simultaneous swaps* (one new link joining
  pairs on both sides, or several links appearing in the same round) are all performed at the
  same instant and independently: a run of ``m`` adjacent pairs becomes one pair with
  probability ``p_swap**(m-1)``; if any of its swaps fails, *every* pair of the run is discarded
  (a failed Bell measurement destroys the pairs on both sides of it, which after the other,
  simultaneous swaps span the whole run). Discarded segments start again: they attempt from the
  next round, so their next link appears at the earliest one round later.
* **Cut-off** (optional ``cutoff_s``). The *age* of a pair (elementary or swapped) is the time
  since the **oldest** elementary link inside it was generated (equivalently: every memory qubit
  has its own cut-off, counted from the generation of the link it was loaded with). A pair may
  take part in swaps at time ``t`` only while ``age <= cutoff_s``; it is discarded at the last
  round boundary at which that holds, i.e. at ``t_oldest + m * attempt_s`` with
  ``m = floor(cutoff_s / attempt_s)`` (1e-9 relative tolerance), after any swaps and delivery
  at that instant, and its segments attempt again from the next round. For ``cutoff_s`` a
  multiple of ``attempt_s`` this is exactly "discard when the age exceeds ``cutoff_s``"; in
  general the cut-off acts on whole rounds. ``cutoff_s < attempt_s`` means links survive only if
  used in the round they appear.
* **Delivery.** The end-to-end pair is delivered the moment it is formed; the waiting time is that
  time and its fidelity is ``(3w + 1) / 4`` at that moment. Within one instant the order is:
  new links appear, swaps, delivery, cut-off discards.

With ``p_swap = 1`` and no cut-off the delivery round is ``max_i K_i`` (``K_i`` iid geometric) and
the delivered ``w = w0**N * exp(-(attempt_s / t_coh_s) * D)``, ``D`` counting stored-pair rounds
(see :mod:`qnetai.sim.chain_exact`); that case is sampled directly (> 1e6 samples/s at N = 8) and
has exact means :func:`exact_mean_waiting_time_s` and :func:`exact_mean_fidelity`. Otherwise an
event-wise simulation vectorised over samples is used (:mod:`qnetai.sim.chain_events`).

:func:`simulate_chain` returns every sample; :func:`summarise_chain` draws the same samples in
fixed-size chunks and keeps only summary statistics, in memory that does not grow with their
number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from qnetai.errors import InputError
from qnetai.sim.chain_events import EVENT_BATCH, sample_events
from qnetai.sim.chain_exact import (
    MAX_EXACT_FIDELITY_SEGMENTS,
    exact_mean_fidelity,
    exact_mean_waiting_time_s,
    expected_max_geometric,
)
from qnetai.sim.chain_fast import FAST_CHUNK, chunk_samples, sample_fast
from qnetai.sim.chain_params import (
    MAX_ATTEMPT_S,
    MAX_SEGMENTS,
    MIN_P_GEN,
    check_fidelity,
    check_int,
    check_positive,
    check_probability,
    check_range,
    cutoff_rounds,
)
from qnetai.sim.chain_summary import ChainAccumulator, ChainSummary

__all__ = [
    "MAX_EXACT_FIDELITY_SEGMENTS",
    "SUMMARY_CHUNK",
    "ChainResult",
    "ChainSummary",
    "exact_mean_fidelity",
    "exact_mean_waiting_time_s",
    "expected_max_geometric",
    "simulate_chain",
    "summarise_chain",
    "summary_chunk",
]

#: Samples per chunk of :func:`summarise_chain` on the closed-form path, up to 16 segments
#: (fewer beyond, see :func:`summary_chunk`); the event-wise path uses its own batches.
SUMMARY_CHUNK = 1 << 18


def summary_chunk(segments: int, closed_form: bool) -> int:
    """Samples per chunk of :func:`summarise_chain` (and :meth:`ChainResult.summary`).

    It depends only on the model (never on the machine) and is a multiple of the sampler's own
    chunk, so chunking leaves the random stream, hence every figure, unchanged; each chunk holds
    a few MB and takes at most a few seconds (so progress is reported that often).
    """
    if closed_form:
        return chunk_samples(segments, SUMMARY_CHUNK, 16 * SUMMARY_CHUNK)
    return chunk_samples(segments, EVENT_BATCH, 16 * EVENT_BATCH)


assert SUMMARY_CHUNK % FAST_CHUNK == 0


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class ChainResult:
    """Samples of the delivery time and delivered fidelity of a repeater chain.

    ``waiting_times_s`` and ``fidelities`` are read-only arrays of shape ``(samples,)``; the
    remaining fields are the parameters that produced them.
    """

    waiting_times_s: np.ndarray
    fidelities: np.ndarray
    segments: int
    p_gen: float
    attempt_s: float
    fidelity: float
    t_coh_s: float
    p_swap: float = 1.0
    cutoff_s: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "waiting_times_s", _frozen(self.waiting_times_s))
        object.__setattr__(self, "fidelities", _frozen(self.fidelities))

    @property
    def samples(self) -> int:
        """Number of simulated chains."""
        return int(self.waiting_times_s.shape[0])

    def _std(self, x: np.ndarray) -> float:
        return float(np.std(x, ddof=1)) if x.shape[0] > 1 else 0.0

    @property
    def mean_waiting_time_s(self) -> float:
        """Sample mean of the delivery time."""
        return float(np.mean(self.waiting_times_s))

    @property
    def std_waiting_time_s(self) -> float:
        """Sample standard deviation (ddof=1) of the delivery time."""
        return self._std(self.waiting_times_s)

    @property
    def sem_waiting_time_s(self) -> float:
        """Standard error of :attr:`mean_waiting_time_s`."""
        return self.std_waiting_time_s / math.sqrt(self.samples)

    @property
    def mean_fidelity(self) -> float:
        """Sample mean of the delivered fidelity."""
        return float(np.mean(self.fidelities))

    @property
    def std_fidelity(self) -> float:
        """Sample standard deviation (ddof=1) of the delivered fidelity."""
        return self._std(self.fidelities)

    @property
    def sem_fidelity(self) -> float:
        """Standard error of :attr:`mean_fidelity`."""
        return self.std_fidelity / math.sqrt(self.samples)

    @property
    def has_closed_form(self) -> bool:
        """True when exact means exist (``p_swap == 1`` and no cut-off)."""
        return self.p_swap == 1.0 and self.cutoff_s is None

    def waiting_time_percentiles_s(self, q: Any = (50, 90, 99)) -> np.ndarray:
        """Percentiles (``q`` in [0, 100]) of the delivery time."""
        return np.percentile(self.waiting_times_s, q)

    def summary(self) -> ChainSummary:
        """Summary figures, identical to :func:`summarise_chain` with the same seed."""
        acc = ChainAccumulator()
        step = summary_chunk(self.segments, self.has_closed_form)
        for lo in range(0, self.samples, step):
            hi = lo + step
            acc.add(self.waiting_times_s[lo:hi], self.fidelities[lo:hi])
        return acc.summary(self._params())

    def _params(self) -> dict[str, Any]:
        return {
            "segments": self.segments,
            "p_gen": self.p_gen,
            "attempt_s": self.attempt_s,
            "fidelity": self.fidelity,
            "t_coh_s": self.t_coh_s,
            "p_swap": self.p_swap,
            "cutoff_s": self.cutoff_s,
        }

    def to_dict(self) -> dict[str, Any]:
        """Parameters and summary figures as a JSON-ready dict (no per-sample arrays).

        The same as ``summarise_chain(...).to_dict()`` for the same seed; see
        :meth:`qnetai.sim.chain_summary.ChainSummary.to_dict`.
        """
        return self.summary().to_dict()


@dataclass(frozen=True)
class _Model:
    """Validated parameters of the chain; draws chunks of samples."""

    n: int
    p: float
    a: float
    f: float
    t_coh: float
    q: float
    cut: float | None

    def params(self) -> dict[str, Any]:
        return {
            "segments": self.n,
            "p_gen": self.p,
            "attempt_s": self.a,
            "fidelity": self.f,
            "t_coh_s": self.t_coh,
            "p_swap": self.q,
            "cutoff_s": self.cut,
        }

    def sample(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Delivery times (s) and fidelities of ``count`` independent chains."""
        n, a = self.n, self.a
        w0 = (4.0 * self.f - 1.0) / 3.0
        c = a / self.t_coh
        if self.q == 1.0 and self.cut is None:
            rounds, werner = sample_fast(n, self.p, w0, c, count, rng)
        else:
            log_w0 = math.log(w0) if w0 > 0.0 else -math.inf
            cut_r = None if self.cut is None else cutoff_rounds(self.cut, a)
            rounds_i, log_w = sample_events(n, self.p, log_w0, c, self.q, cut_r, count, rng)
            rounds = rounds_i.astype(np.float64)
            werner = np.exp(log_w)
        fidelities = (3.0 * werner + 1.0) / 4.0
        if n == 1:
            fidelities[:] = self.f  # no storage at all: exactly the fresh fidelity
        rounds *= a
        return rounds, fidelities


def _model(
    segments: object,
    p_gen: object,
    attempt_s: object,
    fidelity: object,
    t_coh_s: object,
    p_swap: object,
    cutoff_s: object,
    rng: object,
) -> _Model:
    n = check_int("segments", segments, minimum=1, maximum=MAX_SEGMENTS)
    p = check_probability("p_gen", p_gen)
    check_range("p_gen", p, MIN_P_GEN, 1.0, "rounds are counted in 64-bit integers")
    a = check_positive("attempt_s", attempt_s)
    if a > MAX_ATTEMPT_S:
        raise InputError(f"attempt_s must be <= {MAX_ATTEMPT_S:g} s (got {a:g})")
    f = check_fidelity("fidelity", fidelity)
    t_coh = check_positive("t_coh_s", t_coh_s, allow_inf=True)
    q = check_probability("p_swap", p_swap)
    cut = None if cutoff_s is None else check_positive("cutoff_s", cutoff_s, allow_inf=True)
    if not isinstance(rng, np.random.Generator):
        raise InputError(f"rng must be a numpy.random.Generator (got {type(rng).__name__})")
    return _Model(n, p, a, f, t_coh, q, cut)


def simulate_chain(
    *,
    segments: int,
    p_gen: float,
    attempt_s: float,
    fidelity: float,
    t_coh_s: float,
    p_swap: float = 1.0,
    cutoff_s: float | None = None,
    samples: int,
    rng: np.random.Generator,
) -> ChainResult:
    """Sample the delivery time and fidelity of ``samples`` independent repeater chains.

    The model and its conventions (simultaneous swaps, cut-off from the oldest link) are in the
    module docstring. ``t_coh_s`` may be ``inf`` (no decoherence). Raises :class:`InputError`
    for parameters out of range. The arrays take 16 bytes per sample; for summary figures of
    many samples use :func:`summarise_chain` (bounded memory, same figures).

    Example:
        >>> r = simulate_chain(segments=1, p_gen=1.0, attempt_s=1e-3, fidelity=0.9,
        ...                    t_coh_s=1.0, samples=4, rng=np.random.default_rng(0))
        >>> r.waiting_times_s.tolist(), r.mean_fidelity
        ([0.001, 0.001, 0.001, 0.001], 0.9)
    """
    model = _model(segments, p_gen, attempt_s, fidelity, t_coh_s, p_swap, cutoff_s, rng)
    count = check_int("samples", samples, minimum=1)
    waiting_times_s, fidelities = model.sample(count, rng)
    return ChainResult(waiting_times_s=waiting_times_s, fidelities=fidelities, **model.params())


def summarise_chain(
    *,
    segments: int,
    p_gen: float,
    attempt_s: float,
    fidelity: float,
    t_coh_s: float,
    p_swap: float = 1.0,
    cutoff_s: float | None = None,
    samples: int,
    rng: np.random.Generator,
    progress: Callable[[int, int], None] | None = None,
) -> ChainSummary:
    """Summary figures of ``samples`` chains, simulated in chunks in bounded memory.

    Samples are drawn in chunks of :func:`summary_chunk` samples (a size fixed by the model, so
    the random stream and every figure are those of ``simulate_chain(...).to_dict()`` with the
    same seed, whatever the machine) and folded into running moments and value counts; memory
    does not grow with ``samples``. ``progress(done, total)`` is called before the first chunk
    and after each one. Raises :class:`InputError` for parameters out of range.

    Example:
        >>> s = summarise_chain(segments=1, p_gen=1.0, attempt_s=1e-3, fidelity=0.9,
        ...                     t_coh_s=1.0, samples=4, rng=np.random.default_rng(0))
        >>> s.mean_waiting_time_s, s.mean_fidelity
        (0.001, 0.9)
    """
    model = _model(segments, p_gen, attempt_s, fidelity, t_coh_s, p_swap, cutoff_s, rng)
    count = check_int("samples", samples, minimum=1)
    acc = ChainAccumulator()
    step = summary_chunk(model.n, model.q == 1.0 and model.cut is None)
    if progress is not None:
        progress(0, count)
    for lo in range(0, count, step):
        waiting_times_s, fidelities = model.sample(min(step, count - lo), rng)
        acc.add(waiting_times_s, fidelities)
        if progress is not None:
            progress(acc.samples, count)
    return acc.summary(model.params())
