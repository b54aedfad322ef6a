"""Exact optimum of the two-segment repeater chain: its Markov decision process, solved.

The model is :mod:`qnetai.ai.chain_env` (``qnetai/RepeaterChain-v0``) with ``segments=2`` and
``memories=1``, including its heterogeneous fields (``p_gen_segments``, ``t_coh_slots_nodes``).
At the start of a slot the controller sees, for each segment, either nothing or one elementary
pair of known age ``a`` (its Bell-diagonal state is a function of ``a``); it may discard either
pair and/or swap at the middle node. A swap succeeds with ``p_swap`` and delivers at once; the
delivery is *valid* when its fidelity (:func:`qnetai.physics.swap` of the two stored states,
gate and measurement noise included) is ``>= threshold``. A valid delivery ends the episode;
otherwise (invalid delivery or failed swap) both memories are empty. Then every stored pair
ages (and decays) by one slot and each empty segment ``i`` generates a fresh pair with
``p_gen_i``. Cost 1 per slot, so the value of a policy is the mean number of slots ``E[T]`` to a
valid delivery and its valid delivery rate is ``1 / E[T]`` (the figure of
:func:`qnetai.ai.chain_policies.evaluate_policy`).

States are ``(x0, x1)`` with ``x = 0`` for an empty memory and ``x = 1 + a`` for a pair of age
``a``; ages ``>= max_age`` are lumped into one state, which is exact whenever a pair of age
``max_age`` can no longer give a valid delivery (:attr:`ChainMDP.lumping_exact`; the default
``max_age`` is chosen so). Policies are integer arrays over the ``(n, n)`` state grid with the
actions :data:`WAIT`, :data:`DISCARD0`, :data:`DISCARD1`, :data:`DISCARD_BOTH`, :data:`SWAP`.
:meth:`ChainMDP.evaluate` solves a policy's linear system exactly (sparse LU);
:meth:`ChainMDP.solve` runs policy iteration to the optimum.

Example:
    >>> from qnetai.ai.chain_env import ChainEnvConfig
    >>> mdp = ChainMDP(ChainEnvConfig(segments=2, memories=1, p_gen=1.0, threshold=0.0))
    >>> round(mdp.evaluate(mdp.swap_asap_policy()).mean_slots, 6)  # both links in slot 1
    1.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from qnetai import physics
from qnetai.ai.chain_env import AGE, HI, LO, ChainEnvConfig, ChainState
from qnetai.errors import InputError

__all__ = [
    "DISCARD0",
    "DISCARD1",
    "DISCARD_BOTH",
    "SWAP",
    "WAIT",
    "ChainMDP",
    "MDPPolicy",
    "PolicyValue",
]

WAIT, DISCARD0, DISCARD1, DISCARD_BOTH, SWAP = range(5)
ACTION_NAMES = ("wait", "discard-0", "discard-1", "discard-both", "swap")
#: Most ages tracked per segment (the state grid has ``(max_age + 2)**2`` states).
MAX_AGE_LIMIT = 2000
#: Largest automatic ``max_age`` (used when pairs never become useless, e.g. threshold 0).
AUTO_MAX_AGE = 300


@dataclass(frozen=True)
class PolicyValue:
    """Exact figures of one policy from the initial state distribution.

    ``mean_slots`` is ``E[T]`` (slots to the first valid delivery, the delivery slot included),
    ``rate_per_slot`` is ``1 / E[T]``, ``mean_fidelity`` the mean fidelity of that valid delivery
    and ``values`` the per-state ``E[T]`` on the ``(n, n)`` grid.
    """

    mean_slots: float
    rate_per_slot: float
    mean_fidelity: float
    values: np.ndarray


class ChainMDP:
    """The two-segment chain's MDP (see the module docstring); exact values and the optimum.

    ``max_age`` defaults to the first age at which a pair, with a fresh partner, can no longer
    give a valid delivery (plus one), capped at :data:`MAX_AGE_LIMIT`.
    """

    def __init__(self, config: ChainEnvConfig, *, max_age: int | None = None) -> None:
        if config.segments != 2 or config.memories != 1:
            raise InputError(
                "ChainMDP models segments=2, memories=1 "
                f"(got segments={config.segments}, memories={config.memories})"
            )
        self.config = config
        self.p_gen = config.segment_p_gen()
        t = config.pair_t_coh_slots(np.array([0, 1]), np.array([1, 2]))
        self.t_pair = np.broadcast_to(np.asarray(t, dtype=float), (2,)).copy()
        if max_age is None:
            max_age = self._auto_max_age()
        if not 1 <= int(max_age) <= MAX_AGE_LIMIT:
            raise InputError(f"max_age must be in [1, {MAX_AGE_LIMIT}] (got {max_age})")
        self.max_age = int(max_age)
        self.n = self.max_age + 2
        states = [self._states(i) for i in range(2)]
        # Delivered fidelity for every pair of ages (left state first, as the env swaps).
        f = np.empty((self.max_age + 1, self.max_age + 1))
        for a0 in range(self.max_age + 1):
            f[a0] = physics.swap(
                np.broadcast_to(states[0][a0], states[1].shape),
                states[1],
                gate_fidelity=config.gate_fidelity,
                measurement_error=config.measurement_error,
            )[:, 0]
        self.fidelity = f
        self.valid = f >= config.threshold
        self.lumping_exact = not (self.valid[-1, :].any() or self.valid[:, -1].any())

    def _states(self, seg: int) -> np.ndarray:
        """Bell vectors of a pair on segment ``seg`` at ages ``0..max_age`` (as the env decays)."""
        out = [physics.werner(self.config.fidelity)]
        for _ in range(self.max_age):
            out.append(physics.depolarise(out[-1], 1.0, self.t_pair[seg]))
        return np.array(out)

    def _auto_max_age(self) -> int:
        cfg = self.config
        fresh = physics.werner(cfg.fidelity)
        cur = [fresh.copy(), fresh.copy()]
        for age in range(AUTO_MAX_AGE):
            ok = [
                physics.swap(
                    cur[0],
                    fresh,
                    gate_fidelity=cfg.gate_fidelity,
                    measurement_error=cfg.measurement_error,
                )[0]
                >= cfg.threshold,
                physics.swap(
                    fresh,
                    cur[1],
                    gate_fidelity=cfg.gate_fidelity,
                    measurement_error=cfg.measurement_error,
                )[0]
                >= cfg.threshold,
            ]
            if not any(ok):
                return max(1, age + 1)
            cur = [physics.depolarise(cur[i], 1.0, self.t_pair[i]) for i in range(2)]
        return AUTO_MAX_AGE

    # -- structure -----------------------------------------------------------------------------

    def _advance(self, seg: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-segment ``(from, to, prob)`` of the end-of-slot transition (age, generate)."""
        n, p = self.n, float(self.p_gen[seg])
        src = [0, 0, *range(1, n)]
        dst = [0, 1] + [min(x + 1, n - 1) for x in range(1, n)]
        prob = [1.0 - p, p] + [1.0] * (n - 1)
        return np.array(src), np.array(dst), np.array(prob)

    def allowed(self) -> np.ndarray:
        """Boolean ``(n, n, 5)``: which actions are possible in each state."""
        x0 = np.arange(self.n)[:, None] > 0
        x1 = np.arange(self.n)[None, :] > 0
        ok = np.zeros((self.n, self.n, 5), dtype=bool)
        ok[..., WAIT] = True
        ok[..., DISCARD0] = x0
        ok[..., DISCARD1] = x1
        ok[..., DISCARD_BOTH] = x0 & x1
        ok[..., SWAP] = x0 & x1
        return ok

    def _pre_advance(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per state: the pre-advance state ``(z0, z1)`` and the probability of not ending."""
        i0, i1 = np.indices((self.n, self.n))
        z0 = np.where((action == DISCARD0) | (action == DISCARD_BOTH) | (action == SWAP), 0, i0)
        z1 = np.where((action == DISCARD1) | (action == DISCARD_BOTH) | (action == SWAP), 0, i1)
        a0, a1 = np.maximum(i0 - 1, 0), np.maximum(i1 - 1, 0)
        valid = self.valid[a0, a1] & (i0 > 0) & (i1 > 0)
        go_on = np.where(action == SWAP, 1.0 - self.config.p_swap * valid, 1.0)
        return z0, z1, go_on

    def _reward_fidelity(self, action: np.ndarray) -> np.ndarray:
        i0, i1 = np.indices((self.n, self.n))
        a0, a1 = np.maximum(i0 - 1, 0), np.maximum(i1 - 1, 0)
        valid = self.valid[a0, a1] & (i0 > 0) & (i1 > 0) & (action == SWAP)
        return np.where(valid, self.config.p_swap * self.fidelity[a0, a1], 0.0)

    def _expect_next(self, v: np.ndarray) -> np.ndarray:
        """``W[z0, z1] = E[v(next) | pre-advance state (z0, z1)]`` (segments advance alone)."""
        mats = []
        for seg in range(2):
            src, dst, prob = self._advance(seg)
            m = np.zeros((self.n, self.n))
            np.add.at(m, (src, dst), prob)
            mats.append(m)
        return mats[0] @ v @ mats[1].T

    def _matrix(self, action: np.ndarray) -> Any:
        """Sparse ``P_pi`` (non-terminal transitions) of a policy: at most 4 successors each."""
        from scipy import sparse

        n = self.n
        z0, z1, go_on = self._pre_advance(action)
        succ = []
        for seg, z in ((0, z0.reshape(-1)), (1, z1.reshape(-1))):
            p = float(self.p_gen[seg])
            # An empty memory generates (index 1) with p or stays empty; a pair ages.
            dst = np.stack([np.where(z == 0, 0, np.minimum(z + 1, n - 1)), np.ones_like(z)], 1)
            prob = np.stack([np.where(z == 0, 1.0 - p, 1.0), np.where(z == 0, p, 0.0)], 1)
            succ.append((dst, prob))
        (d0, p0), (d1, p1) = succ
        cols = (d0[:, :, None] * n + d1[:, None, :]).reshape(-1)
        vals = (p0[:, :, None] * p1[:, None, :] * go_on.reshape(-1)[:, None, None]).reshape(-1)
        rows = np.repeat(np.arange(n * n), 4)
        keep = vals > 0.0
        return sparse.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n * n,) * 2)

    def initial_distribution(self) -> np.ndarray:
        """``(n, n)`` probabilities of the slot-1 state (links generated in slot 1)."""
        d = np.zeros((self.n, self.n))
        p0, p1 = self.p_gen
        d[0, 0], d[1, 0], d[0, 1], d[1, 1] = (
            (1 - p0) * (1 - p1),
            p0 * (1 - p1),
            (1 - p0) * p1,
            p0 * p1,
        )
        return d

    # -- policies ------------------------------------------------------------------------------

    def check_policy(self, policy: np.ndarray) -> np.ndarray:
        """``policy`` as an int array of shape ``(n, n)`` with allowed actions only."""
        pol = np.asarray(policy)
        if pol.shape != (self.n, self.n):
            raise InputError(f"policy must have shape {(self.n, self.n)} (got {pol.shape})")
        pol = pol.astype(np.int64)
        if pol.min() < 0 or pol.max() > 4:
            raise InputError("policy entries must be actions 0..4")
        bad = ~np.take_along_axis(self.allowed(), pol[..., None], axis=2)[..., 0]
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise InputError(f"policy[{i}, {j}] = {ACTION_NAMES[pol[i, j]]} is not allowed there")
        return pol

    def cutoff_policy(self, cutoffs: tuple[int | None, int | None] | int | None) -> np.ndarray:
        """Swap-asap with cut-offs (one for both segments, or one per segment; None = never).

        As :class:`~qnetai.ai.chain_policies.SwapAsapPolicy`: swap whenever both pairs are
        present; otherwise discard a pair whose age has reached its segment's cut-off.
        """
        cut = cutoffs if isinstance(cutoffs, tuple) else (cutoffs, cutoffs)
        i0, i1 = np.indices((self.n, self.n))
        big = self.max_age + 10

        def old(i: np.ndarray, c: int | None) -> np.ndarray:
            if c is not None and c > self.max_age:
                raise InputError(f"cut-off {c} exceeds max_age {self.max_age}; raise max_age")
            return (i > 0) & (i - 1 >= (big if c is None else c))

        d0, d1 = old(i0, cut[0]), old(i1, cut[1])
        pol = np.where(d0 & d1, DISCARD_BOTH, np.where(d0, DISCARD0, np.where(d1, DISCARD1, WAIT)))
        return np.where((i0 > 0) & (i1 > 0), SWAP, pol)

    def swap_asap_policy(self) -> np.ndarray:
        """Swap whenever both pairs are present; never discard."""
        return self.cutoff_policy(None)

    def evaluate(self, policy: np.ndarray) -> PolicyValue:
        """Exact ``E[T]`` and mean valid fidelity of ``policy`` (sparse linear solves).

        Raises :class:`InputError` when the policy never delivers from some reachable state
        (the system is singular).
        """
        from scipy import sparse
        from scipy.sparse.linalg import splu

        pol = self.check_policy(policy)
        n2 = self.n * self.n
        a = sparse.identity(n2, format="csc") - self._matrix(pol).tocsc()
        try:
            lu = splu(a)
        except RuntimeError as exc:
            raise InputError("policy never delivers a valid pair from some state") from exc
        v = lu.solve(np.ones(n2)).reshape(self.n, self.n)
        g = lu.solve(self._reward_fidelity(pol).reshape(-1)).reshape(self.n, self.n)
        d0 = self.initial_distribution()
        mean = float((d0 * v).sum())
        if not math.isfinite(mean) or mean <= 0 or (v < 0).any():
            raise InputError("policy never delivers a valid pair from some state")
        return PolicyValue(mean, 1.0 / mean, float((d0 * g).sum()), v)

    def q_values(self, v: np.ndarray) -> np.ndarray:
        """``Q(s, a) = 1 + E[v(next)]`` for every state and action (inf where not allowed)."""
        w = self._expect_next(v)
        q = np.empty((self.n, self.n, 5))
        for act in range(5):
            z0, z1, go_on = self._pre_advance(np.full((self.n, self.n), act))
            q[..., act] = 1.0 + go_on * w[z0, z1]
        return np.where(self.allowed(), q, np.inf)

    def solve(self, *, start: np.ndarray | None = None, max_iter: int = 200) -> MDPPolicy:
        """The optimal policy by policy iteration (exact evaluation each round).

        Starts from ``start`` or the best single cut-off policy; stops when no state improves
        by more than 1e-12 relative.
        """
        if start is None:
            best = min(
                (self.evaluate(self.cutoff_policy(c)).mean_slots, c)
                for c in range(0, self.max_age + 1)
            )
            start = self.cutoff_policy(best[1])
        pol = self.check_policy(start)
        value = self.evaluate(pol)
        for _ in range(max_iter):
            q = self.q_values(value.values)
            current = np.take_along_axis(q, pol[..., None], axis=2)[..., 0]
            better = q.min(axis=2) < current - 1e-12 * np.maximum(1.0, current)
            if not better.any():
                break
            pol = np.where(better, q.argmin(axis=2), pol)
            value = self.evaluate(pol)
        return MDPPolicy(self, pol, value)


@dataclass
class MDPPolicy:
    """A policy of :class:`ChainMDP` playable in ``RepeaterChainEnv`` (``ChainPolicy``).

    ``act`` reads the ages of the two elementary pairs from the env state and returns the
    env's action vector ``[swap, discard segment 0, discard segment 1]``.
    """

    mdp: ChainMDP
    table: np.ndarray
    value: PolicyValue | None = None
    label: str = "mdp-optimal"

    @property
    def name(self) -> str:
        """The label in tables."""
        return self.label

    def index(self, state: ChainState) -> tuple[int, int]:
        """The MDP state ``(x0, x1)`` of an env state."""
        x = [0, 0]
        for lo, hi, age in state.pairs[:, [LO, HI, AGE]].tolist():
            if hi - lo == 1:
                x[int(lo)] = 1 + min(int(age), self.mdp.max_age)
        return x[0], x[1]

    def act(self, state: ChainState, obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The table's action as ``[swap, discard 0, discard 1]``."""
        a = int(self.table[self.index(state)])
        return np.array(
            [int(a == SWAP), int(a in (DISCARD0, DISCARD_BOTH)), int(a in (DISCARD1, DISCARD_BOTH))]
        )
