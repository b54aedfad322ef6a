"""Summary figures of a repeater-chain Monte Carlo, accumulated chunk by chunk.

:class:`ChainAccumulator` folds chunks of delivery times and fidelities into running moments
and value counts (:mod:`qnetai.sim.chain_stats`), so that any number of samples summarises in
bounded memory; :class:`ChainSummary` holds the figures (``to_dict`` is what
``qnetai chain --json`` prints). The model is documented in :mod:`qnetai.sim.chain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from qnetai.sim.chain_exact import exact_mean_fidelity, exact_mean_waiting_time_s
from qnetai.sim.chain_stats import RunningMoments, ValueCounts

__all__ = ["ChainAccumulator", "ChainSummary"]

#: ``to_dict`` adds the exact mean fidelity only up to this many segments (it costs ~N^2 2^N).
_TO_DICT_EXACT_FIDELITY_SEGMENTS = 16


@dataclass(frozen=True)
class ChainSummary:
    """Parameters and summary figures of ``samples`` simulated chains (no per-sample arrays).

    Percentiles are exact unless ``percentiles_exact`` is False (more distinct values than
    :class:`qnetai.sim.chain_stats.ValueCounts` keeps; then off by a rank of ~1e-5).
    """

    segments: int
    p_gen: float
    attempt_s: float
    fidelity: float
    t_coh_s: float
    p_swap: float
    cutoff_s: float | None
    samples: int
    mean_waiting_time_s: float
    std_waiting_time_s: float
    sem_waiting_time_s: float
    waiting_time_p50_s: float
    waiting_time_p90_s: float
    waiting_time_p99_s: float
    mean_fidelity: float
    std_fidelity: float
    sem_fidelity: float
    fidelity_p05: float
    fidelity_p50: float
    percentiles_exact: bool

    @property
    def has_closed_form(self) -> bool:
        """True when exact means exist (``p_swap == 1`` and no cut-off)."""
        return self.p_swap == 1.0 and self.cutoff_s is None

    def to_dict(self) -> dict[str, Any]:
        """Parameters and figures as a JSON-ready dict.

        ``exact_mean_waiting_time_s`` and ``exact_mean_fidelity`` are ``None`` where no closed
        form applies (``p_swap < 1``, a cut-off, or more than 16 segments for the fidelity).
        """
        exact_t = exact_f = None
        if self.has_closed_form:
            exact_t = exact_mean_waiting_time_s(self.segments, self.p_gen, self.attempt_s)
            if self.segments <= _TO_DICT_EXACT_FIDELITY_SEGMENTS:
                exact_f = exact_mean_fidelity(
                    self.segments, self.p_gen, self.attempt_s, self.fidelity, self.t_coh_s
                )
        return {
            "segments": self.segments,
            "p_gen": self.p_gen,
            "attempt_s": self.attempt_s,
            "fidelity": self.fidelity,
            "t_coh_s": self.t_coh_s,
            "p_swap": self.p_swap,
            "cutoff_s": self.cutoff_s,
            "samples": self.samples,
            "mean_waiting_time_s": self.mean_waiting_time_s,
            "std_waiting_time_s": self.std_waiting_time_s,
            "sem_waiting_time_s": self.sem_waiting_time_s,
            "waiting_time_p50_s": self.waiting_time_p50_s,
            "waiting_time_p90_s": self.waiting_time_p90_s,
            "waiting_time_p99_s": self.waiting_time_p99_s,
            "exact_mean_waiting_time_s": exact_t,
            "mean_fidelity": self.mean_fidelity,
            "std_fidelity": self.std_fidelity,
            "sem_fidelity": self.sem_fidelity,
            "fidelity_p05": self.fidelity_p05,
            "fidelity_p50": self.fidelity_p50,
            "exact_mean_fidelity": exact_f,
            "percentiles_exact": self.percentiles_exact,
        }


class ChainAccumulator:
    """Running summary of delivery times and fidelities, fed one chunk at a time."""

    def __init__(self) -> None:
        self._t = RunningMoments()
        self._f = RunningMoments()
        self._t_counts = ValueCounts()
        self._f_counts = ValueCounts()

    @property
    def samples(self) -> int:
        """Samples folded in so far."""
        return self._t.count

    def add(self, waiting_times_s: np.ndarray, fidelities: np.ndarray) -> None:
        """Fold one chunk (two 1-D arrays of equal length) into the summary."""
        self._t.add(waiting_times_s)
        self._f.add(fidelities)
        self._t_counts.add(waiting_times_s)
        self._f_counts.add(fidelities)

    def summary(self, params: dict[str, Any]) -> ChainSummary:
        """The figures so far, with the model ``params`` (the first seven fields)."""
        if self.samples == 0:
            raise ValueError("no samples")
        p50, p90, p99 = (float(x) for x in self._t_counts.percentile((50, 90, 99)))
        f05, f50 = (float(x) for x in self._f_counts.percentile((5, 50)))
        return ChainSummary(
            **params,
            samples=self.samples,
            mean_waiting_time_s=self._t.mean,
            std_waiting_time_s=self._t.std,
            sem_waiting_time_s=self._t.sem,
            waiting_time_p50_s=p50,
            waiting_time_p90_s=p90,
            waiting_time_p99_s=p99,
            mean_fidelity=self._f.mean,
            std_fidelity=self._f.std,
            sem_fidelity=self._f.sem,
            fidelity_p05=f05,
            fidelity_p50=f50,
            percentiles_exact=self._t_counts.exact and self._f_counts.exact,
        )
