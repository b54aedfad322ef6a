"""Policies for the repeater-chain environment and their seeded evaluation.

Classical baselines act on the functional state (:class:`~qnetai.ai.chain_env.ChainState`: what
the controller knows) and return a ``MultiDiscrete`` action of :mod:`qnetai.ai.chain_env`:

* ``swap-asap``: swap at every node that can, never discard, never purify;
* ``swap-asap-cutoff`` (``cutoff_slots=m``): swap-asap, and discard every pair whose age reaches
  ``m`` slots unless it is delivered in this slot (the cut-off of :mod:`qnetai.sim.chain`,
  counted from the oldest link inside the pair); :func:`search_cutoff` finds the best ``m``;
* ``nested``: doubling: node ``j`` swaps only the two halves of its block of the balanced binary
  tree over the segments;
* ``purify-swap``: purify (pump) every segment holding two elementary pairs, and swap only
  purified pairs.

Without a cut-off, old pairs fill the memories (a segment holding ``memories`` pairs stops
generating), so with short coherence every baseline also comes with its own searched cut-off.

A learned policy (:class:`MaskablePolicy`) runs the actor of a trained sb3-contrib
``MaskablePPO`` in numpy (:mod:`qnetai.ai.chain_actor`).
:func:`evaluate_policy` plays episodes on given seeds and returns delivery statistics.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from qnetai.ai.chain_actor import NumpyChainActor
from qnetai.ai.chain_env import (
    AGE,
    HI,
    LO,
    PUR,
    ChainEnvConfig,
    ChainState,
    RepeaterChainEnv,
    _sides,
    action_nvec,
    swap_runs,
)
from qnetai.errors import InputError

__all__ = [
    "BASELINES",
    "ChainPolicy",
    "EvaluationResult",
    "MaskablePolicy",
    "NestedPolicy",
    "PurifySwapPolicy",
    "SwapAsapPolicy",
    "evaluate_policy",
    "make_baseline",
    "search_cutoff",
]

BASELINES = ("swap-asap", "swap-asap-cutoff", "nested", "purify-swap")


class ChainPolicy(Protocol):
    """A controller: ``act`` maps what the controller knows to a ``MultiDiscrete`` action."""

    @property
    def name(self) -> str:
        """The policy's label in tables and reports."""
        ...

    def act(self, state: ChainState, obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The action for this slot."""
        ...


def _flags(cfg: ChainEnvConfig) -> tuple[np.ndarray, int, int]:
    """Zero action, offset of the discard flags and of the purify flags."""
    n, m = cfg.segments, cfg.memories
    return np.zeros(action_nvec(cfg).shape[0], dtype=np.int64), n - 1, n - 1 + n * m


def _apply_cutoff(
    cfg: ChainEnvConfig, state: ChainState, action: np.ndarray, cutoff: int | None
) -> np.ndarray:
    """Discard pairs aged ``>= cutoff`` unless the planned swaps deliver them now."""
    if cutoff is None:
        return action
    pairs, n, m = state.pairs, cfg.segments, cfg.memories
    nodes = [int(j) + 1 for j in np.flatnonzero(action[: n - 1] == 1)]
    keep: set[int] = set()
    for run in swap_runs(pairs, nodes) + [[k] for k in range(pairs.shape[0])]:
        if pairs[run[0], LO] == 0 and pairs[run[-1], HI] == n:
            keep |= set(run)
    right, _ = _sides(pairs, n)
    base = n - 1
    for i in range(n):
        for k, idx in enumerate(right[i][:m]):
            if idx not in keep and pairs[idx, AGE] >= cutoff:
                action[base + i * m + k] = 1
    return action


@dataclass
class SwapAsapPolicy:
    """Swap wherever possible; with ``cutoff_slots``, discard pairs that reach that age."""

    config: ChainEnvConfig
    cutoff_slots: int | None = None

    @property
    def name(self) -> str:
        """``swap-asap`` or ``swap-asap-cutoff<m>``."""
        return "swap-asap" if self.cutoff_slots is None else f"swap-asap-cutoff{self.cutoff_slots}"

    def act(self, state: ChainState, obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Swap at every node with a pair on each side."""
        action, _, _ = _flags(self.config)
        n = self.config.segments
        action[: n - 1] = mask.reshape(-1, 2)[: n - 1, 1]
        return _apply_cutoff(self.config, state, action, self.cutoff_slots)


def _blocks(lo: int, hi: int, out: dict[int, tuple[int, int]]) -> dict[int, tuple[int, int]]:
    if hi - lo >= 2:
        mid = lo + (hi - lo) // 2
        out[mid] = (lo, hi)
        _blocks(lo, mid, out)
        _blocks(mid, hi, out)
    return out


@dataclass
class NestedPolicy:
    """Doubling: node ``j`` joins exactly the two halves of its block ``(a, b)``."""

    config: ChainEnvConfig
    cutoff_slots: int | None = None
    blocks: dict[int, tuple[int, int]] = field(init=False)

    def __post_init__(self) -> None:
        self.blocks = _blocks(0, self.config.segments, {})

    @property
    def name(self) -> str:
        """``nested`` or ``nested-cutoff<m>``."""
        return "nested" if self.cutoff_slots is None else f"nested-cutoff{self.cutoff_slots}"

    def act(self, state: ChainState, obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Swap at ``j`` when its best left pair is ``[a, j]`` and its best right ``[j, b]``."""
        action, _, _ = _flags(self.config)
        pairs = state.pairs
        right, left = _sides(pairs, self.config.segments)
        for j, (a, b) in self.blocks.items():
            if left[j] and right[j]:
                lp, rp = pairs[left[j][0]], pairs[right[j][0]]
                action[j - 1] = int(lp[LO] == a and rp[HI] == b)
        return _apply_cutoff(self.config, state, action, self.cutoff_slots)


@dataclass
class PurifySwapPolicy:
    """Purify (pump) whenever a segment holds two elementary pairs; swap purified pairs asap.

    A segment with one purified pair keeps generating and pumps each new link into it; a node
    swaps once its best pairs on both sides have been purified at least once.
    """

    config: ChainEnvConfig
    cutoff_slots: int | None = None

    def __post_init__(self) -> None:
        if self.config.memories < 2:
            raise InputError("purify-swap needs memories >= 2")

    @property
    def name(self) -> str:
        """``purify-swap`` or ``purify-swap-cutoff<m>``."""
        base = "purify-swap"
        return base if self.cutoff_slots is None else f"{base}-cutoff{self.cutoff_slots}"

    def act(self, state: ChainState, obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Purify where two elementary pairs wait; swap where both sides are purified."""
        cfg = self.config
        action, _, pur_at = _flags(cfg)
        pairs, n = state.pairs, cfg.segments
        right, left = _sides(pairs, n)
        purifying = set()
        for i in range(n):
            links = [k for k in right[i] if pairs[k, HI] == i + 1]
            if len(links) >= 2 and right[i][:2] == links[:2]:
                action[pur_at + i] = 1
                purifying |= set(links[:2])
        for j in range(1, n):
            if left[j] and right[j]:
                ready = [
                    pairs[side[0], PUR] >= 1 or side[0] in purifying for side in (left[j], right[j])
                ]
                action[j - 1] = int(all(ready))
        return _apply_cutoff(cfg, state, action, self.cutoff_slots)


class MaskablePolicy:
    """A trained chain policy acting greedily under the action mask (numpy, no torch).

    ``actor`` is the :class:`~qnetai.ai.chain_actor.NumpyChainActor` of a MaskablePPO
    ``MlpPolicy`` (loaded from a model file by :func:`qnetai.ai.chain_training.load_chain_model`
    or copied from a model in training); ``act`` equals the model's
    ``predict(obs, action_masks=mask, deterministic=True)``: the arg-max of the masked logits
    of every action dimension.
    """

    def __init__(self, actor: NumpyChainActor, name: str = "maskable-ppo") -> None:
        self.actor = actor
        self.name = name

    def logits(self, obs: np.ndarray) -> np.ndarray:
        """Unmasked action logits (flat, ``sum(nvec)``) of the policy network."""
        return self.actor.logits(obs)

    def act(self, state: ChainState, obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The model's most likely valid choice in every action dimension."""
        return self.actor.act(obs, mask)


def make_baseline(
    name: str, config: ChainEnvConfig, *, cutoff_slots: int | None = None
) -> ChainPolicy:
    """A baseline by name (one of :data:`BASELINES`)."""
    if name == "swap-asap":
        return SwapAsapPolicy(config)
    if name == "swap-asap-cutoff":
        if cutoff_slots is None:
            raise InputError("swap-asap-cutoff needs cutoff_slots (see search_cutoff)")
        return SwapAsapPolicy(config, cutoff_slots)
    if name == "nested":
        return NestedPolicy(config, cutoff_slots)
    if name == "purify-swap":
        return PurifySwapPolicy(config, cutoff_slots)
    raise InputError(f"policy must be one of {', '.join(BASELINES)} (got {name!r})")


@dataclass(frozen=True)
class EvaluationResult:
    """Per-episode outcomes of one policy and the summary figures with 95% CIs."""

    policy: str
    slots: np.ndarray  # slots played per episode
    valid: np.ndarray  # valid deliveries per episode (0 or 1)
    deliveries: np.ndarray  # all deliveries per episode
    fidelities: np.ndarray  # every delivered fidelity
    decision_s: np.ndarray  # time of each call to act

    def summary(self) -> dict[str, Any]:
        """Delivery rate (valid per slot), fidelity, fraction valid, decision time; ±95% CIs."""
        z = 1.959963984540054
        n = self.slots.shape[0]
        s, v = self.slots.astype(float), self.valid.astype(float)
        rate = v.sum() / s.sum()
        # Ratio estimator: var(rate) ~ var(v - rate * s) / (n * mean(s)^2).
        rate_ci = z * np.std(v - rate * s, ddof=1) / (math.sqrt(n) * s.mean()) if n > 1 else 0.0
        nd = self.fidelities.shape[0]
        f_mean = float(self.fidelities.mean()) if nd else math.nan
        f_ci = z * float(self.fidelities.std(ddof=1)) / math.sqrt(nd) if nd > 1 else math.nan
        total_d = int(self.deliveries.sum())
        frac = v.sum() / total_d if total_d else math.nan
        frac_ci = z * math.sqrt(frac * (1 - frac) / total_d) if total_d else math.nan
        return {
            "policy": self.policy,
            "episodes": n,
            "delivery_rate_per_slot": float(rate),
            "delivery_rate_ci95": float(rate_ci),
            "mean_slots_to_valid": float(s.mean()),
            "mean_slots_ci95": z * float(s.std(ddof=1)) / math.sqrt(n) if n > 1 else 0.0,
            "mean_delivered_fidelity": f_mean,
            "mean_delivered_fidelity_ci95": f_ci,
            "fraction_valid": float(frac),
            "fraction_valid_ci95": float(frac_ci),
            "truncated": int(n - v.sum()),
            "decision_ms_mean": 1e3 * float(self.decision_s.mean()),
            "decision_ms_p99": 1e3 * float(np.percentile(self.decision_s, 99)),
        }


def episode_seeds(seed: int, episodes: int) -> list[int]:
    """The reset seeds of ``episodes`` episodes (shared by every policy)."""
    return [int(x) for x in np.random.SeedSequence(seed).generate_state(episodes)]


def evaluate_policy(
    config: ChainEnvConfig, policy: ChainPolicy, *, episodes: int, seed: int
) -> EvaluationResult:
    """Play ``episodes`` episodes on the seeds :func:`episode_seeds` and collect outcomes."""
    env = RepeaterChainEnv(config)
    slots, valid, deliveries, fids, times = [], [], [], [], []
    for s in episode_seeds(seed, episodes):
        obs, info = env.reset(seed=s)
        steps = n_deliv = 0
        while True:
            t0 = time.perf_counter()
            action = policy.act(env.state, obs, info["action_mask"])
            times.append(time.perf_counter() - t0)
            obs, _, terminated, truncated, info = env.step(action)
            steps += 1
            if info["deliveries"]:
                n_deliv += info["deliveries"]
                fids.append(info["delivered_fidelity"])
            if terminated or truncated:
                break
        slots.append(steps)
        valid.append(int(terminated))
        deliveries.append(n_deliv)
    return EvaluationResult(
        policy.name,
        np.array(slots),
        np.array(valid),
        np.array(deliveries),
        np.array(fids),
        np.array(times),
    )


def search_cutoff(
    config: ChainEnvConfig,
    *,
    episodes: int = 300,
    seed: int = 12345,
    candidates: list[int] | None = None,
    policy: str = "swap-asap",
) -> tuple[int, list[tuple[int, float]]]:
    """Cut-off (slots) maximising the valid delivery rate of ``policy`` with that cut-off.

    Tries ``candidates`` (default ``0..min(max_slots, 3 t_coh)``, sparser beyond 20) on seeds
    of their own (use other seeds for the final comparison). Returns ``(best, [(m, rate)])``.
    """
    if candidates is None:
        top = int(min(config.max_slots, max(4.0, 3.0 * min(config.t_coh_slots, 1e6))))
        candidates = sorted(set(range(min(top, 20) + 1)) | set(range(20, top + 1, 4)))
    table = []
    for m in candidates:
        name = "swap-asap-cutoff" if policy == "swap-asap" else policy
        pol = make_baseline(name, config, cutoff_slots=m)
        r = evaluate_policy(config, pol, episodes=episodes, seed=seed).summary()
        table.append((m, r["delivery_rate_per_slot"]))
    best = max(table, key=lambda x: x[1])[0]
    return best, table
