"""Repeater-chain decision environment ``qnetai/RepeaterChain-v0`` (wait, swap, purify, discard).

A functional core (pure functions on a :class:`ChainState` and an ``rng``) wrapped by a thin
Gymnasium :class:`RepeaterChainEnv`, as in Gymnasium's functional environments.

The model, exactly (time-slotted; it extends the abstract chain of :mod:`qnetai.sim.chain`):

* **Chain.** ``segments`` segments between nodes ``0..N``. Every node has ``memories`` qubits
  facing each side (default 2, so that a segment can hold two pairs for purification; with
  ``memories=1`` the model is the one of :mod:`qnetai.sim.chain`).
* **Pairs.** A pair joins nodes ``lo < hi`` and *covers* segments ``lo..hi-1``; its state is a
  Bell-diagonal vector (:mod:`qnetai.physics`) and its *age* counts the slots since the oldest
  elementary link inside it was generated (the cut-off convention of :mod:`qnetai.sim.chain`).
* **Slot ``t``** (one :meth:`RepeaterChainEnv.step`): the controller sees the pairs present at
  slot ``t`` (links generated in slot ``t`` included) and acts; in order
  (1) *discards*, (2) *purifications* (BBPSSW or DEJMPS from :mod:`qnetai.physics`: the two
  pairs with the same end nodes whose left end is node ``i`` are consumed; with probability
  ``p_success`` one pair with the purified state remains, else both are lost),
  (3) *swaps*, all at the same instant: node ``j`` swaps its best left pair with its best right
  pair (best = longest, then highest fidelity); a run of pairs joined by simultaneous swaps
  becomes one pair if all its swaps succeed (each with ``p_swap``), otherwise every pair of the
  run is lost (as in :mod:`qnetai.sim.chain`); the new pair's state is :func:`physics.swap` of
  its parts and its age the largest of theirs,
  (4) *delivery*: a pair spanning ``0..N`` is consumed at once; it is *valid* when its fidelity
  is ``>= threshold``. A valid delivery ends the episode (``terminated``); an invalid one is
  counted (``info``) but earns nothing and the episode goes on,
  (5) *advance*: every stored pair decays by one factor ``exp(-1 / t_coh_slots)``
  (:func:`physics.depolarise`, one factor per pair whatever its length), ages grow by one, and
  every segment covered by ``c < memories`` pairs makes ``memories - c`` generation attempts,
  each succeeding with ``p_gen`` into a Werner pair of fidelity ``fidelity`` and age 0.
  (As in :mod:`qnetai.sim.chain`, memories freed inside a long pair are not reused.)
* **Reward** ``-1`` per slot plus ``delivery_bonus`` on a valid delivery: the return is
  ``bonus - T`` with ``T`` the time to a valid delivery, so maximising it maximises the valid
  delivery rate. An episode is truncated after ``max_slots`` slots.
* **Observation** (what a real controller knows: no hidden randomness; the Bell-diagonal states
  follow from ``fidelity``, ``t_coh_slots`` and the heralded events): for each node and side,
  ``memories`` slots ordered best first (the order the actions refer to), each with
  ``[present, span / N, (F - 1/4) / (3/4), age scaled, purified]``; see :func:`observation`.
* **Action** ``MultiDiscrete``: ``N - 1`` swap flags (interior nodes ``1..N-1``), then
  ``N * memories`` discard flags (the ``m``-th best pair whose left end is node ``i``), then,
  if ``memories >= 2``, ``N`` purify flags (segment ``i``: the pairs whose left end is node ``i``).
  :func:`action_mask` gives the valid choices (MaskablePPO layout); an invalid choice, or one made
  impossible by an earlier stage of the same slot, is ignored.

With ``memories=1``, ``p_swap=1``, ``threshold=0`` the swap-asap policy delivers at slot
``max_i K_i`` with the fidelity of :func:`qnetai.sim.chain.exact_mean_fidelity`.

Example:
    >>> env = RepeaterChainEnv(ChainEnvConfig(segments=2, p_gen=1.0, threshold=0.0))
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step([1, 0, 0, 0, 0, 0, 0])
    >>> terminated, round(info["delivered_fidelity"], 4)
    (True, 0.9033)
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from qnetai import physics
from qnetai._optional import require
from qnetai.errors import InputError
from qnetai.sim.chain_params import check_fidelity, check_int, check_positive, check_probability

if TYPE_CHECKING:
    import gymnasium as gym
else:
    gym = require("gymnasium", extra="ai")

__all__ = [
    "ENV_ID",
    "ChainEnvConfig",
    "ChainState",
    "RepeaterChainEnv",
    "StepOutcome",
    "action_mask",
    "action_nvec",
    "initial_state",
    "observation",
    "register_envs",
    "step_state",
    "swap_runs",
]

ENV_ID = "qnetai/RepeaterChain-v0"

# Columns of the pair table.
LO, HI, AGE, PUR = 0, 1, 6, 7
BELL = slice(2, 6)
NCOL = 8
FEATURES = 5  # per memory slot in the observation
_RANGE = np.arange(32)


@dataclass(frozen=True)
class ChainEnvConfig:
    """Parameters of the repeater-chain environment (validated on construction).

    Times are in slots. ``purification`` is ``"bbpssw"`` or ``"dejmps"``; ``gate_fidelity`` and
    ``measurement_error`` apply to swaps and purification (conventions of
    :mod:`qnetai.physics.operations`).
    """

    segments: int = 3
    p_gen: float = 0.5
    fidelity: float = 0.95
    t_coh_slots: float = 20.0
    p_swap: float = 1.0
    memories: int = 2
    threshold: float = 0.8
    purification: str = "bbpssw"
    gate_fidelity: float = 1.0
    measurement_error: float = 0.0
    max_slots: int = 200
    delivery_bonus: float = 10.0
    #: Heterogeneous chains: per-segment success probabilities (length ``segments``; overrides
    #: ``p_gen``) and per-node coherence times in slots (length ``segments + 1``; overrides
    #: ``t_coh_slots``: a pair ``lo..hi`` decays by ``exp(-(1/t_lo + 1/t_hi) / 2)`` a slot).
    p_gen_segments: tuple[float, ...] | None = None
    t_coh_slots_nodes: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        check_int("segments", self.segments, minimum=1, maximum=16)
        for name, n_expected in (("p_gen_segments", 0), ("t_coh_slots_nodes", 1)):
            values = getattr(self, name)
            if values is None:
                continue
            if isinstance(values, str | bytes) or not hasattr(values, "__len__"):
                raise InputError(f"{name} must be a list of numbers (got {values!r})")
            values = tuple(values)
            if len(values) != self.segments + n_expected:
                raise InputError(
                    f"{name} must have {self.segments + n_expected} entries (got {len(values)})"
                )
            for k, v in enumerate(values):
                if name == "p_gen_segments":
                    check_probability(f"{name}[{k}]", v)
                else:
                    check_positive(f"{name}[{k}]", v, allow_inf=True)
            object.__setattr__(self, name, tuple(float(v) for v in values))
        check_probability("p_gen", self.p_gen)
        check_fidelity("fidelity", self.fidelity)
        check_positive("t_coh_slots", self.t_coh_slots, allow_inf=True)
        check_probability("p_swap", self.p_swap)
        check_int("memories", self.memories, minimum=1, maximum=4)
        if not 0.0 <= float(self.threshold) <= 1.0:
            raise InputError(f"threshold must be in [0, 1] (got {self.threshold})")
        if self.purification not in ("bbpssw", "dejmps"):
            raise InputError(
                f"purification must be 'bbpssw' or 'dejmps' (got {self.purification!r})"
            )
        if not 0.0 <= float(self.gate_fidelity) <= 1.0:
            raise InputError(f"gate_fidelity must be in [0, 1] (got {self.gate_fidelity})")
        if not 0.0 <= float(self.measurement_error) <= 0.5:
            raise InputError(
                f"measurement_error must be in [0, 0.5] (got {self.measurement_error})"
            )
        check_int("max_slots", self.max_slots, minimum=1)
        if not math.isfinite(float(self.delivery_bonus)) or self.delivery_bonus < 0:
            raise InputError(f"delivery_bonus must be >= 0 (got {self.delivery_bonus})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the parameters (the heterogeneous fields only when set)."""
        d = asdict(self)
        for name in ("p_gen_segments", "t_coh_slots_nodes"):
            if d[name] is None:
                del d[name]
            else:
                d[name] = list(d[name])
        return d

    def segment_p_gen(self) -> np.ndarray:
        """Success probability of one attempt on each segment, shape ``(segments,)``."""
        if self.p_gen_segments is not None:
            return np.array(self.p_gen_segments)
        return np.full(self.segments, float(self.p_gen))

    def pair_t_coh_slots(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray | float:
        """Coherence time (slots) of pairs ``lo..hi``: one factor ``exp(-1/t)`` per slot."""
        if self.t_coh_slots_nodes is None:
            return float(self.t_coh_slots)
        rate = 1.0 / np.array(self.t_coh_slots_nodes)
        lo_i, hi_i = np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64)
        with np.errstate(divide="ignore"):
            return 2.0 / (rate[lo_i] + rate[hi_i])

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChainEnvConfig:
        """Inverse of :meth:`to_dict` (unknown keys raise :class:`InputError`)."""
        names = {f.name for f in fields(cls)}
        extra = sorted(set(d) - names)
        if extra:
            raise InputError(f"unknown chain environment parameter(s): {', '.join(extra)}")
        return cls(**d)


class ChainState(NamedTuple):
    """Functional state: the slot number and the pair table ``(k, 8)``.

    Columns: ``lo, hi, p_PhiPlus, p_PsiPlus, p_PsiMinus, p_PhiMinus, age, purifications``;
    rows in canonical order (by ``lo``, then longest, then highest fidelity).
    """

    slot: int
    pairs: np.ndarray


class StepOutcome(NamedTuple):
    """What one slot produced besides the new state."""

    reward: float
    terminated: bool
    truncated: bool
    deliveries: int
    valid_deliveries: int
    delivered_fidelity: float  # the best delivered this slot, nan if none


def _canonical(pairs: np.ndarray) -> np.ndarray:
    if pairs.shape[0] < 2:
        return pairs
    order = np.lexsort((-pairs[:, 2], pairs[:, LO] - pairs[:, HI], pairs[:, LO]))
    return pairs[order]


def _sides(pairs: np.ndarray, n: int) -> tuple[list[list[int]], list[list[int]]]:
    """Per node: indices of its right-memory (``lo == node``) and left-memory pairs.

    Each list is best first (longest, then highest fidelity).
    """
    right: list[list[int]] = [[] for _ in range(n + 1)]
    left: list[list[tuple[float, float, int]]] = [[] for _ in range(n + 1)]
    for k, (lo, hi, f) in enumerate(pairs[:, :3].tolist()):
        right[int(lo)].append(k)  # rows are in canonical order already
        left[int(hi)].append((lo, -f, k))
    return right, [[k for _, _, k in sorted(side)] for side in left]


def _right(pairs: np.ndarray, node: int) -> list[int]:
    """Indices of the pairs whose left end is ``node`` (its right memories), best first."""
    return [k for k, lo in enumerate(pairs[:, LO].tolist()) if lo == node]


def action_nvec(cfg: ChainEnvConfig) -> np.ndarray:
    """``nvec`` of the ``MultiDiscrete`` action space (layout in the module docstring)."""
    n, m = cfg.segments, cfg.memories
    purify = n if m >= 2 else 0
    return np.full((n - 1) + n * m + purify, 2, dtype=np.int64)


def _split(cfg: ChainEnvConfig, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, m = cfg.segments, cfg.memories
    swaps = action[: n - 1]
    discards = action[n - 1 : n - 1 + n * m].reshape(n, m)
    purifies = action[n - 1 + n * m :] if m >= 2 else np.zeros(n, dtype=np.int64)
    return swaps, discards, purifies


def _can_purify(pairs: np.ndarray, idx: list[int]) -> tuple[int, int] | None:
    """The first two of the pairs ``idx`` (same left end) that share their right end."""
    for a in range(len(idx)):
        for b in range(a + 1, len(idx)):
            if pairs[idx[a], HI] == pairs[idx[b], HI]:
                return idx[a], idx[b]
    return None


def action_mask(cfg: ChainEnvConfig, state: ChainState) -> np.ndarray:
    """Boolean mask over ``sum(nvec)`` choices (``[no, yes]`` per flag): which are valid now.

    "No" is always valid; "swap at j" needs a pair on each side of node ``j``; "discard (i, m)"
    needs an ``m``-th pair with left end ``i``; "purify i" needs two pairs with left end ``i``
    and the same right end.
    """
    pairs = state.pairs
    n, m = cfg.segments, cfg.memories
    right, left = _sides(pairs, n)
    yes: list[bool] = [bool(left[j]) and bool(right[j]) for j in range(1, n)]
    for i in range(n):
        yes.extend(k < len(right[i]) for k in range(m))
    if m >= 2:
        yes.extend(_can_purify(pairs, right[i]) is not None for i in range(n))
    mask = np.ones((len(yes), 2), dtype=bool)
    mask[:, 1] = yes
    return mask.reshape(-1)


def _new_links(cfg: ChainEnvConfig, pairs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n, m = cfg.segments, cfg.memories
    cover = [0] * n
    for lo, hi in pairs[:, :2].tolist():
        for i in range(int(lo), int(hi)):
            cover[i] += 1
    hits = rng.random((n, m)) < cfg.segment_p_gen()[:, None]  # one draw per memory, used or not
    hits &= _RANGE[:m] < (m - np.array(cover))[:, None]
    count = hits.sum(axis=1)
    total = int(count.sum())
    if total == 0:
        return pairs
    new = np.zeros((total, NCOL))
    new[:, LO] = np.repeat(_RANGE[:n], count)
    new[:, HI] = new[:, LO] + 1
    new[:, BELL] = _fresh(cfg.fidelity)
    return _canonical(np.concatenate([pairs, new]))


@functools.lru_cache(maxsize=64)
def _fresh(fidelity: float) -> np.ndarray:
    return physics.werner(fidelity)


def initial_state(cfg: ChainEnvConfig, rng: np.random.Generator) -> ChainState:
    """Slot 1 with the links generated in it (all segments start empty)."""
    return ChainState(1, _new_links(cfg, np.zeros((0, NCOL)), rng))


def swap_runs(pairs: np.ndarray, nodes: list[int]) -> list[list[int]]:
    """Runs of pair indices (left to right) joined by swapping at ``nodes`` at the same instant.

    Each node swaps its best left pair with its best right pair; nodes lacking either are
    skipped. Only runs of two or more pairs are returned.
    """
    nxt: dict[int, int] = {}
    right, left = _sides(pairs, int(pairs[:, HI].max(initial=0)))
    for j in nodes:
        if j < len(left) and left[j] and right[j]:
            nxt[left[j][0]] = right[j][0]
    heads = set(nxt) - set(nxt.values())
    runs = []
    for h in sorted(heads, key=lambda k: pairs[k, LO]):
        run = [h]
        while run[-1] in nxt:
            run.append(nxt[run[-1]])
        runs.append(run)
    return runs


def step_state(
    cfg: ChainEnvConfig, state: ChainState, action: Any, rng: np.random.Generator
) -> tuple[ChainState, StepOutcome]:
    """Advance one slot: the pure transition function (``state`` is not modified)."""
    act = np.asarray(action, dtype=np.int64).reshape(-1)
    if act.shape[0] != action_nvec(cfg).shape[0]:
        raise InputError(
            f"action must have {action_nvec(cfg).shape[0]} entries (got {act.shape[0]})"
        )
    swaps, discards, purifies = _split(cfg, act)
    pairs = state.pairs
    n = cfg.segments
    # 1. Discards (indices refer to the slot's observation order).
    drop: list[int] = []
    if np.any(discards == 1):
        right, _ = _sides(pairs, n)
        drop = [
            right[i][k]
            for i, k in zip(*np.nonzero(discards == 1), strict=False)
            if k < len(right[i])
        ]
    if drop:
        pairs = np.delete(pairs, drop, axis=0)
    # 2. Purifications.
    if np.any(purifies == 1):
        pairs = pairs.copy()
        lost: list[int] = []
        for i in np.flatnonzero(purifies == 1):
            both = _can_purify(pairs, _right(pairs, int(i)))
            if both is None:
                continue
            a, b = both
            op = physics.bbpssw if cfg.purification == "bbpssw" else physics.dejmps
            purified, p_ok = op(
                pairs[a, BELL],
                pairs[b, BELL],
                gate_fidelity=cfg.gate_fidelity,
                measurement_error=cfg.measurement_error,
            )
            if rng.random() < float(p_ok):
                pairs[a, BELL] = purified
                pairs[a, AGE] = max(pairs[a, AGE], pairs[b, AGE])
                pairs[a, PUR] = max(pairs[a, PUR], pairs[b, PUR]) + 1
                lost.append(b)
            else:
                lost += [a, b]
        pairs = _canonical(np.delete(pairs, lost, axis=0))
    # 3. Swaps, simultaneous.
    nodes = [int(j) + 1 for j in np.flatnonzero(swaps == 1)]
    if nodes:
        runs = swap_runs(pairs, nodes)
        if runs:
            ok = rng.random(sum(len(r) - 1 for r in runs)) < cfg.p_swap
            merged, used, pos = [], [], 0
            for run in runs:
                used += run
                success = bool(ok[pos : pos + len(run) - 1].all())
                pos += len(run) - 1
                if not success:
                    continue
                row = pairs[run[0]].copy()
                for k in run[1:]:
                    row[BELL] = physics.swap(
                        row[BELL],
                        pairs[k, BELL],
                        gate_fidelity=cfg.gate_fidelity,
                        measurement_error=cfg.measurement_error,
                    )
                row[HI] = pairs[run[-1], HI]
                row[AGE] = pairs[run, AGE].max()
                row[PUR] = pairs[run, PUR].min()
                merged.append(row)
            pairs = np.delete(pairs, used, axis=0)
            if merged:
                pairs = _canonical(np.concatenate([pairs, np.array(merged)]))
    # 4. Delivery.
    e2e = (pairs[:, LO] == 0) & (pairs[:, HI] == n)
    deliveries = int(e2e.sum())
    fid = pairs[e2e, 2]
    valid = int(np.sum(fid >= cfg.threshold))
    best = float(fid.max()) if deliveries else math.nan
    if deliveries:
        pairs = pairs[~e2e]
    terminated = valid > 0
    reward = -1.0 + (cfg.delivery_bonus if terminated else 0.0)
    truncated = not terminated and state.slot >= cfg.max_slots
    # 5. Advance to the next slot.
    if not terminated:
        pairs = pairs.copy()
        t_pairs = cfg.pair_t_coh_slots(pairs[:, LO], pairs[:, HI])
        pairs[:, BELL] = physics.depolarise(pairs[:, BELL], 1.0, t_pairs)
        pairs[:, AGE] += 1.0
        pairs = _new_links(cfg, pairs, rng)
    out = StepOutcome(reward, terminated, truncated, deliveries, valid, best)
    return ChainState(state.slot + 1, pairs), out


def observation_size(cfg: ChainEnvConfig) -> int:
    """Length of the observation vector."""
    return 2 * cfg.segments * cfg.memories * FEATURES


def observation(cfg: ChainEnvConfig, state: ChainState) -> np.ndarray:
    """The observation vector (float32 in [0, 1]).

    Right memories of nodes ``0..N-1`` then left memories of nodes ``1..N``, ``memories`` slots
    each, best first; per slot ``[present, span / N, (F - 1/4) / (3/4), age / scale,
    min(purifications, 2) / 2]`` with ``scale = min(max_slots, 4 * t_coh_slots)`` (age clipped
    to 1).
    """
    pairs = state.pairs
    n, m = cfg.segments, cfg.memories
    scale = max(1.0, min(float(cfg.max_slots), 4.0 * cfg.t_coh_slots))
    obs = np.zeros((2, n, m, FEATURES), dtype=np.float32)
    right, left = _sides(pairs, n)
    rows = pairs.tolist()
    for side, lists in ((0, right[:n]), (1, left[1:])):
        for node_row, idx in enumerate(lists):
            for k, i in enumerate(idx[:m]):
                r = rows[i]
                obs[side, node_row, k] = (
                    1.0,
                    (r[HI] - r[LO]) / n,
                    min(1.0, max(0.0, (r[2] - 0.25) / 0.75)),
                    min(1.0, r[AGE] / scale),
                    min(r[PUR], 2.0) / 2.0,
                )
    return obs.reshape(-1)


class RepeaterChainEnv(gym.Env):
    """Gymnasium wrapper of the functional core (see the module docstring).

    Build with a :class:`ChainEnvConfig` or its fields as keywords. ``action_masks()`` serves
    sb3-contrib's MaskablePPO; ``info["action_mask"]`` carries the same mask.
    """

    metadata = {"render_modes": []}  # noqa: RUF012 (gymnasium declares it an instance attribute)

    def __init__(self, config: ChainEnvConfig | None = None, **kwargs: Any) -> None:
        if config is not None and kwargs:
            raise InputError("give either config or keyword parameters, not both")
        self.config = config if config is not None else ChainEnvConfig(**kwargs)
        size = observation_size(self.config)
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(size,), dtype=np.float32)
        self.action_space = gym.spaces.MultiDiscrete(action_nvec(self.config))
        self.state: ChainState = ChainState(1, np.zeros((0, NCOL)))
        self._mask = action_mask(self.config, self.state)

    def _info(self, out: StepOutcome | None = None) -> dict[str, Any]:
        self._mask = action_mask(self.config, self.state)
        info: dict[str, Any] = {"slot": self.state.slot, "action_mask": self._mask}
        if out is not None:
            info.update(deliveries=out.deliveries, valid_deliveries=out.valid_deliveries)
            if out.deliveries:  # the best fidelity delivered in the slot
                info["delivered_fidelity"] = out.delivered_fidelity
        return info

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new episode at slot 1."""
        super().reset(seed=seed)
        self.state = initial_state(self.config, self.np_random)
        return observation(self.config, self.state), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Play one slot."""
        slot = self.state.slot
        self.state, out = step_state(self.config, self.state, action, self.np_random)
        info = self._info(out)
        info["slot"] = slot
        obs = observation(self.config, self.state)
        return obs, out.reward, out.terminated, out.truncated, info

    def action_masks(self) -> np.ndarray:
        """Valid choices now (for MaskablePPO)."""
        return self._mask.copy()


def register_envs() -> None:
    """Register ``qnetai/RepeaterChain-v0`` with Gymnasium (idempotent)."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="qnetai.ai.chain_env:RepeaterChainEnv")
