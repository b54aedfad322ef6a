"""Optimised swap schedules for repeater chains: per-segment cut-offs, exact optimum, regimes.

Swap-asap with one cut-off for every pair is the classical baseline (its cut-off searched,
:func:`qnetai.ai.chain_policies.search_cutoff`). Chains whose segments differ (unequal links,
unequal memories) need a cut-off per segment: :class:`SegmentCutoffPolicy` discards a pair when
its age reaches the smallest cut-off of the segments it covers. :func:`search_segment_cutoffs`
finds the vector, exactly with :class:`~qnetai.ai.chain_mdp.ChainMDP` where that applies (two
segments, one memory) or by evolutionary search (nevergrad) on Monte Carlo episodes elsewhere.
:func:`bench_schedules` compares, on the same episode seeds, swap-asap, swap-asap with its
optimal cut-off, the searched per-segment cut-offs, the exact optimum (where computable) and a
learned MaskablePPO model, in the documented :data:`REGIMES`.

Example:
    >>> cfg = REGIMES["het-memory"].config
    >>> cut, rate = search_segment_cutoffs(cfg)  # exact (ChainMDP), under a second
    >>> cut
    (0, 8)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from qnetai.ai.chain_env import AGE, HI, LO, ChainEnvConfig, ChainState, _sides, swap_runs
from qnetai.ai.chain_mdp import ChainMDP
from qnetai.ai.chain_policies import (
    ChainPolicy,
    SwapAsapPolicy,
    evaluate_policy,
    search_cutoff,
)
from qnetai.errors import InputError

__all__ = [
    "DEFAULT_MODELS",
    "DEFAULT_REGIMES",
    "REGIMES",
    "Regime",
    "SegmentCutoffPolicy",
    "bench_schedules",
    "search_segment_cutoffs",
]


@dataclass(frozen=True)
class Regime:
    """A named chain configuration with the physical picture it stands for."""

    name: str
    config: ChainEnvConfig
    description: str


def _cfg(**kw: Any) -> ChainEnvConfig:
    """Defaults F = 0.95, 2000 slots; ``p_gen`` / ``t_coh_slots`` echo the per-segment values."""
    base: dict[str, Any] = {"fidelity": 0.95, "max_slots": 2000}
    if "p_gen_segments" in kw:
        base["p_gen"] = kw["p_gen_segments"][0]
    if "t_coh_slots_nodes" in kw:
        base["t_coh_slots"] = max(kw["t_coh_slots_nodes"])
    return ChainEnvConfig(**{**base, **kw})


#: Slot = 0.6 ms (heralding round trip of a 60 km segment); p_gen = 0.5 x fibre transmittance
#: at 0.2 dB/km (20 km: 0.2, 60 km: 0.03); t_coh 100 slots = 60 ms, 5 slots = 3 ms.
REGIMES: dict[str, Regime] = {
    r.name: r
    for r in (
        Regime(
            "homogeneous",
            _cfg(segments=2, memories=1, p_gen=0.3, t_coh_slots=10.0, threshold=0.8),
            "2 equal segments, equal memories, t_coh ~ 3 generation times",
        ),
        Regime(
            "het-links",
            _cfg(
                segments=2,
                memories=1,
                p_gen_segments=(0.2, 0.03),
                t_coh_slots=100.0,
                threshold=0.85,
            ),
            "20 km + 60 km segments, equal 60 ms memories",
        ),
        Regime(
            "het-memory",
            _cfg(
                segments=2,
                memories=1,
                p_gen_segments=(0.2, 0.03),
                t_coh_slots_nodes=(5.0, 100.0, 100.0),
                threshold=0.85,
            ),
            "20 km + 60 km segments; the short segment's end node has a 3 ms memory, others 60 ms",
        ),
        Regime(
            "het-memory-far",
            _cfg(
                segments=2,
                memories=1,
                p_gen_segments=(0.2, 0.03),
                t_coh_slots_nodes=(100.0, 100.0, 5.0),
                threshold=0.85,
            ),
            "as het-memory, the 3 ms memory at the end of the long segment",
        ),
        Regime(
            "het-both",
            _cfg(
                segments=2,
                memories=1,
                p_gen_segments=(0.2, 0.05),
                t_coh_slots_nodes=(10.0, 50.0, 50.0),
                threshold=0.85,
            ),
            "20 km + 50 km segments; 6 ms memory at one end, 30 ms elsewhere",
        ),
        Regime(
            "het-3x2",
            _cfg(
                segments=3,
                memories=2,
                p_gen_segments=(0.3, 0.1, 0.3),
                t_coh_slots_nodes=(5.0, 50.0, 50.0, 50.0),
                threshold=0.8,
            ),
            "3 segments (short, long, short), 2 memories per node side, one 3 ms end memory",
        ),
    )
}


#: Shipped learned models per regime (``qnetai/data/models/chain-<name>``).
DEFAULT_MODELS: dict[str, str | Path] = {"het-memory": "het-memory"}
#: Regimes of :func:`bench_schedules` by default (all of :data:`REGIMES`).
DEFAULT_REGIMES: tuple[str, ...] = tuple(REGIMES)


@dataclass
class SegmentCutoffPolicy:
    """Swap-asap with one cut-off (slots) per segment; ``None`` means never discard.

    A pair covering segments ``lo..hi-1`` is discarded when its age reaches the smallest of
    their cut-offs, unless the swaps of this slot deliver it. With all cut-offs equal it is
    :class:`~qnetai.ai.chain_policies.SwapAsapPolicy` with that cut-off.
    """

    config: ChainEnvConfig
    cutoffs: tuple[int | None, ...]

    def __post_init__(self) -> None:
        if len(self.cutoffs) != self.config.segments:
            raise InputError(
                f"cutoffs must have {self.config.segments} entries (got {len(self.cutoffs)})"
            )
        for k, c in enumerate(self.cutoffs):
            if c is not None and (isinstance(c, bool) or not isinstance(c, int) or c < 0):
                raise InputError(f"cutoffs[{k}] must be an integer >= 0 or None (got {c!r})")

    @property
    def name(self) -> str:
        """``segment-cutoffs(a,b,...)``."""
        return (
            "segment-cutoffs(" + ",".join("-" if c is None else str(c) for c in self.cutoffs) + ")"
        )

    def act(self, state: ChainState, obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Swap wherever possible; discard pairs at their segments' cut-off."""
        cfg = self.config
        n, m = cfg.segments, cfg.memories
        action = SwapAsapPolicy(cfg).act(state, obs, mask)
        pairs = state.pairs
        nodes = [int(j) + 1 for j in np.flatnonzero(action[: n - 1] == 1)]
        keep: set[int] = set()
        for run in swap_runs(pairs, nodes) + [[k] for k in range(pairs.shape[0])]:
            if pairs[run[0], LO] == 0 and pairs[run[-1], HI] == n:
                keep |= set(run)
        right, _ = _sides(pairs, n)
        for i in range(n):
            for k, idx in enumerate(right[i][:m]):
                lo, hi = int(pairs[idx, LO]), int(pairs[idx, HI])
                cuts = [c for c in self.cutoffs[lo:hi] if c is not None]
                if idx not in keep and cuts and pairs[idx, AGE] >= min(cuts):
                    action[n - 1 + i * m + k] = 1
        return action


def _exact_possible(config: ChainEnvConfig) -> bool:
    return config.segments == 2 and config.memories == 1


def search_segment_cutoffs(
    config: ChainEnvConfig,
    *,
    method: str = "auto",
    max_cutoff: int | None = None,
    budget: int = 40,
    episodes: int = 200,
    seed: int = 12345,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[tuple[int, ...], float]:
    """Per-segment cut-offs maximising the valid delivery rate; returns ``(cutoffs, rate)``.

    ``method="exact"`` (two segments, one memory) evaluates every pair of cut-offs up to
    ``max_cutoff`` exactly with :class:`ChainMDP` (the rate is exact). ``method="nevergrad"``
    runs nevergrad's ``DiscreteOnePlusOne`` for ``budget`` evaluations of ``episodes`` Monte
    Carlo episodes each (seeds from ``seed``; the rate is that estimate), starting from the
    best single cut-off. ``"auto"`` picks exact where it applies.
    """
    if method == "auto":
        method = "exact" if _exact_possible(config) else "nevergrad"
    if method == "exact":
        if not _exact_possible(config):
            raise InputError("method='exact' needs segments=2 and memories=1")
        mdp = ChainMDP(config)
        top = mdp.max_age if max_cutoff is None else min(int(max_cutoff), mdp.max_age)
        best = max(
            (mdp.evaluate(mdp.cutoff_policy((c0, c1))).rate_per_slot, (c0, c1))
            for c0 in range(top + 1)
            for c1 in range(top + 1)
        )
        return best[1], best[0]
    if method != "nevergrad":
        raise InputError(f"method must be auto, exact or nevergrad (got {method!r})")
    from qnetai._optional import require

    ng = require("nevergrad", extra="ai")
    if budget < 1:
        raise InputError(f"budget must be >= 1 (got {budget})")
    top = int(max_cutoff) if max_cutoff is not None else int(min(30, 3 * config.max_slots))
    n = config.segments
    start, _ = search_cutoff(
        config, episodes=episodes, seed=seed, candidates=list(range(0, top + 1, 2))
    )
    param = ng.p.TransitionChoice(list(range(top + 1)), repetitions=n)
    param.value = tuple([start] * n)
    param.random_state = np.random.RandomState(seed % (2**32))
    opt = ng.optimizers.DiscreteOnePlusOne(parametrization=param, budget=budget)
    cache: dict[tuple[int, ...], float] = {}

    def rate(cut: tuple[int, ...]) -> float:
        if cut not in cache:
            pol = SegmentCutoffPolicy(config, cut)
            r = evaluate_policy(config, pol, episodes=episodes, seed=seed).summary()
            cache[cut] = float(r["delivery_rate_per_slot"])
        return cache[cut]

    for k in range(budget):
        cand = opt.ask()
        cut = tuple(int(c) for c in cand.value)
        opt.tell(cand, -rate(cut))
        if progress is not None:
            progress(k + 1, budget)
    best_cut = max(cache, key=lambda c: cache[c])
    return best_cut, cache[best_cut]


def _row(
    regime: str, cfg: ChainEnvConfig, pol: ChainPolicy, episodes: int, seed: int
) -> dict[str, Any]:
    row = evaluate_policy(cfg, pol, episodes=episodes, seed=seed).summary()
    row["regime"] = regime
    row["exact_rate_per_slot"] = None
    return row


def bench_schedules(
    regimes: Sequence[str] = DEFAULT_REGIMES,
    *,
    episodes: int = 1000,
    seed: int = 2024,
    search_episodes: int = 200,
    search_budget: int = 30,
    models: Mapping[str, str | Path] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every schedule beside swap-asap with its optimal cut-off, per regime, on equal seeds.

    Per regime, rows (Monte Carlo on the episode seeds of ``seed``; searches use ``seed + 1``):
    ``swap-asap``, ``swap-asap-cutoff<m>`` (``m`` searched exactly where the MDP applies, else
    on Monte Carlo), ``segment-cutoffs(...)`` (:func:`search_segment_cutoffs`), ``mdp-optimal``
    (where computable) and ``models[regime]`` (a learned chain model, name or path). Rows with
    an exact value carry ``exact_rate_per_slot``. ``summary`` holds per regime the best
    optimised/learned rate over the best-cut-off rate (``gain``), exact and Monte Carlo.
    """
    from qnetai.ai.chain_training import load_chain_model

    if episodes < 2:
        raise InputError(f"episodes must be >= 2 (got {episodes})")
    unknown = [r for r in regimes if r not in REGIMES]
    if unknown:
        raise InputError(f"regimes must be among {', '.join(REGIMES)} (got {', '.join(unknown)})")
    rows: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    for name in regimes:
        if progress is not None:
            progress(name)
        cfg = REGIMES[name].config
        exact = _exact_possible(cfg)
        mdp = ChainMDP(cfg) if exact else None
        pols: list[tuple[ChainPolicy, float | None]] = []
        asap = SwapAsapPolicy(cfg)
        if mdp is not None:
            single = max(
                (mdp.evaluate(mdp.cutoff_policy(c)).rate_per_slot, c)
                for c in range(mdp.max_age + 1)
            )
            m_best: int = single[1]
            pols.append((asap, mdp.evaluate(mdp.swap_asap_policy()).rate_per_slot))
            pols.append((SwapAsapPolicy(cfg, m_best), single[0]))
        else:
            m_best, _ = search_cutoff(cfg, episodes=search_episodes, seed=seed + 1)
            pols += [(asap, None), (SwapAsapPolicy(cfg, m_best), None)]
        cut, _ = search_segment_cutoffs(
            cfg, episodes=search_episodes, seed=seed + 1, budget=search_budget
        )
        seg = SegmentCutoffPolicy(cfg, tuple(cut))
        seg_exact = mdp.evaluate(mdp.cutoff_policy((cut[0], cut[1]))).rate_per_slot if mdp else None
        pols.append((seg, seg_exact))
        if mdp is not None:
            opt = mdp.solve()
            pols.append((opt, opt.value.rate_per_slot if opt.value else None))
        if models and name in models:
            learned, model_cfg = load_chain_model(models[name])
            same = replace(model_cfg, max_slots=cfg.max_slots, delivery_bonus=cfg.delivery_bonus)
            scale = [min(c.max_slots, 4.0 * c.t_coh_slots) for c in (model_cfg, cfg)]
            if same != cfg or scale[0] != scale[1]:
                raise InputError(
                    f"models.{name}: the model was trained on another chain configuration"
                )
            pols.append((learned, None))
        regime_rows = []
        for pol, ex in pols:
            row = _row(name, cfg, pol, episodes, seed)
            row["exact_rate_per_slot"] = ex
            regime_rows.append(row)
        rows += regime_rows
        base = regime_rows[1]
        others = regime_rows[2:]
        best_mc = max(others, key=lambda r: r["delivery_rate_per_slot"])
        exact_others = [r for r in others if r["exact_rate_per_slot"] is not None]
        summary[name] = {
            "description": REGIMES[name].description,
            "config": cfg.to_dict(),
            "best_single_cutoff_slots": m_best,
            "segment_cutoffs": list(cut),
            "gain_mc": best_mc["delivery_rate_per_slot"] / base["delivery_rate_per_slot"] - 1.0,
            "gain_mc_policy": best_mc["policy"],
            "gain_exact": (
                max(r["exact_rate_per_slot"] for r in exact_others) / base["exact_rate_per_slot"]
                - 1.0
                if exact_others and base["exact_rate_per_slot"]
                else None
            ),
            "episodes": episodes,
            "seed": seed,
        }
    return {"rows": rows, "summary": summary, "episode_seeds_from": seed}
